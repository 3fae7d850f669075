"""Charts and the HTML report. `style` holds the look every chart shares; `html` renders ``report.html`` from
the Jinja2 templates in ``templates/`` with the data of `sections`."""
