"""Charts and the HTML report. `style` holds the look every chart shares."""
