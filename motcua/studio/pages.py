"""The studio's pages: scenarios, the editor, runs and jobs, results, compare, exports.

Each handler reads what it needs (the workspace, the results folder, the job queue), checks every name that came
from the page (`motcua.studio.guard`), and renders a template of ``templates/``. Long work never runs in a
handler: simulations are jobs (`motcua.studio.jobs`), and pages poll them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomlkit
from aiohttp import web

from motcua.errors import InputError
from motcua.report.i18n import LANGS, duration
from motcua.scenario import load_scenario
from motcua.studio import editor, export, plots, studies, views
from motcua.studio.context import JOBS, LANG_COOKIE, WORKSPACE, error_page, lang_of, render
from motcua.studio.guard import checked_name, inside
from motcua.studio.jobs import DONE, FAILED, STUDY_KINDS, JobSpec, find_same_run
from motcua.studio.problems import observation_problem, translate
from motcua.studio.texts import t
from motcua.studio.workspace import MAX_OBSERVED_BYTES

MAX_COMPARED = 5


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", home)
    r.add_get("/lang/{lang}", switch_lang)
    r.add_get("/scenarios", scenarios_page)
    r.add_post("/scenarios/new", new_scenario)
    r.add_get("/scenarios/{name}/edit", edit_page)
    r.add_post("/scenarios/{name}/edit", edit_post)
    r.add_post("/scenarios/{name}/observed", upload_observed)
    r.add_get("/compare", compare_page)
    r.add_post("/jobs", start_job)
    r.add_get("/jobs/{id}", job_page)
    r.add_get("/jobs/{id}/status", job_status)
    r.add_post("/jobs/{id}/cancel", cancel_job)
    r.add_get("/runs", runs_page)
    r.add_get("/runs/{scenario}/{run}", results_page)
    r.add_get("/runs/{scenario}/{run}/report", report_file)
    r.add_get("/runs/{scenario}/{run}/chart/{name}.{fmt}", chart_file)
    r.add_get("/runs/{scenario}/{run}/tables.xlsx", tables_xlsx)
    r.add_get("/runs/{scenario}/{run}/table-{index}.csv", table_csv)


async def home(request: web.Request) -> web.Response:
    return _redirect("/scenarios")


def _redirect(location: str) -> web.Response:
    raise web.HTTPSeeOther(location)


async def switch_lang(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    target = request.query.get("next", "/")
    if lang not in LANGS or not target.startswith("/") or target.startswith("//"):
        raise web.HTTPBadRequest(text="unknown language or next page")
    response = web.HTTPSeeOther(target)
    response.set_cookie(LANG_COOKIE, lang, samesite="Strict")
    raise response


# ---------------------------------------------------------------------------------------------
# Scenarios and the editor
# ---------------------------------------------------------------------------------------------
async def scenarios_page(request: web.Request) -> web.Response:
    ws = request.app[WORKSPACE]
    observed = {e.name for e in ws.all() if ws.observed_of(e) is not None}
    return render(request, "scenarios.html.j2", own=ws.own(), bundled=ws.bundled(), folder=str(ws.root),
                  observed=observed)


async def new_scenario(request: web.Request) -> web.Response:
    form = await request.post()
    source, name = str(form.get("source", "")), str(form.get("name", "")).strip()
    try:
        request.app[WORKSPACE].new_from(checked_name(source), checked_name(name, "name of the copy"))
    except InputError as exc:
        return error_page(request, 400, str(exc))
    return _redirect(f"/scenarios/{name}/edit")


def _editor_view(request: web.Request, name: str, result: editor.FormResult | None = None,
                 message: str | None = None, upload: str | None = None) -> web.Response:
    lang = lang_of(request)
    tr = t(lang)
    entry = request.app[WORKSPACE].find(name)
    doc = result.doc if result else tomlkit.parse(entry.path.read_text(encoding="utf-8"))
    scenario = result.scenario if result and result.scenario else _try_load(entry.path)
    groups = editor.form_fields(doc, scenario, tr)
    fields = editor.all_fields(groups)
    errors: dict[str, str] = {}
    elsewhere = None
    if result and result.error:
        problem = translate(result.error.problem, lang)
        where = editor.field_of_error(result.error, list(fields))
        if where:
            errors[where] = f"{result.error.value!s}: {problem}" if result.error.value not in (None, "") else problem
        else:
            elsewhere = tr("errors_elsewhere", field=result.error.field, value=result.error.value, problem=problem)
    warnings = [dict(w, text=tr(w["key"], **{k: v for k, v in w.items() if k not in ("key", "field")}))
                for w in (result.warnings if result else [])]
    raw = result.raw if result else {}
    shown = {path: editor.display(f, raw, lang) for path, f in fields.items()}
    return render(request, "editor.html.j2", entry=entry, groups=groups, shown=shown, errors=errors,
                  elsewhere=elsewhere, warnings=warnings, message=message, result=result, kinds=editor.KINDS,
                  scenario=scenario, upload=upload, observed=request.app[WORKSPACE].observed_of(entry),
                  status=400 if errors or elsewhere else 200)


def _try_load(path: Path) -> Any:
    try:
        return load_scenario(path)
    except InputError:
        return None


async def edit_page(request: web.Request) -> web.Response:
    return _editor_view(request, checked_name(request.match_info["name"]))


async def edit_post(request: web.Request) -> web.Response:
    name = checked_name(request.match_info["name"])
    ws = request.app[WORKSPACE]
    entry = ws.find(name)
    tr = t(lang_of(request))
    if entry.bundled:
        return error_page(request, 403, tr("read_only"))
    form = await request.post()
    values: dict[str, list[str]] = {}
    for key in form:
        values.setdefault(key, [str(v) for v in form.getall(key)])
    action = values.get("action", ["check"])[-1]
    text = entry.path.read_text(encoding="utf-8")
    result = editor.apply_form(text, values, _try_load(entry.path), tr, str(entry.path))
    if action == "add_intervention" and result.valid:
        editor.add_intervention(result.doc, values.get("new_kind", ["qr_at_counter"])[-1])
        result = editor.check(result.doc, {}, str(entry.path))
    if action == "add_unit" and result.valid:
        editor.add_unit(result.doc)
        result = editor.check(result.doc, {}, str(entry.path))
    message = None
    if result.valid:
        if action in ("save", "add_intervention", "add_unit"):
            editor.save(result.doc, ws.path_for(name))
            message = tr("saved", file=entry.path.name)
        else:
            message = tr("valid")
    response = _editor_view(request, name, result, message)
    if result.error is not None:
        response.set_status(400)
    return response


async def upload_observed(request: web.Request) -> web.Response:
    """An observations CSV for the scenario's calibration: checked by the calibration's own reader, kept only when
    it reads; otherwise the editor says which line, column and value, in the page's language."""
    name = checked_name(request.match_info["name"])
    ws = request.app[WORKSPACE]
    lang = lang_of(request)
    tr = t(lang)
    if ws.find(name).bundled:
        return error_page(request, 403, tr("read_only"))
    upload = (await request.post()).get("observed")
    if not isinstance(upload, web.FileField):
        return _with_status(_editor_view(request, name, upload=tr("upload_none")), 400)
    try:
        count = ws.save_observed(name, upload.file.read(MAX_OBSERVED_BYTES + 1))
    except InputError as exc:
        return _with_status(_editor_view(request, name, upload=tr("upload_refused",
                                                                  why=observation_problem(str(exc), lang))), 400)
    return _editor_view(request, name, message=tr("upload_saved", count=count, file=f"observed/{name}.csv"))


def _with_status(response: web.Response, status: int) -> web.Response:
    response.set_status(status)
    return response


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------
async def compare_page(request: web.Request) -> web.Response:
    return render(request, "compare.html.j2", scenarios=request.app[WORKSPACE].all(), maximum=MAX_COMPARED)


def _int(form: Any, key: str, default: int) -> int:
    text = str(form.get(key, "") or "").strip()
    return int(text) if text.isdigit() else default


async def start_job(request: web.Request) -> web.Response:
    form = await request.post()
    ws = request.app[WORKSPACE]
    names = [checked_name(str(n)) for n in form.getall("scenario", [])]
    baseline = str(form.get("baseline", ""))
    if baseline in names:  # the baseline runs first: differences are taken from it
        names.remove(baseline)
        names.insert(0, baseline)
    kind = str(form.get("kind", "")) or ("compare" if len(names) > 1 else "simulate")
    if kind in STUDY_KINDS and len(names) != 1:
        return error_page(request, 400, f"{kind}: choose one scenario")
    if kind not in (*STUDY_KINDS, "simulate", "compare") or not 1 <= len(names) <= MAX_COMPARED:
        return error_page(request, 400, f"choose 1 to {MAX_COMPARED} scenarios")
    entries = [ws.find(n) for n in names]
    try:
        first = load_scenario(entries[0].path)
    except InputError as exc:
        return error_page(request, 400, str(exc))
    replications = _int(form, "replications", 0 if kind in STUDY_KINDS else first.simulation.replications)
    spec = JobSpec(kind, tuple(e.path for e in entries), replications if kind in STUDY_KINDS else max(1, replications),
                   _int(form, "seed", first.simulation.seed), quick=bool(form.get("quick")), lang=lang_of(request),
                   name=first.name)
    queue = request.app[JOBS]
    if not form.get("force"):
        same = find_same_run(spec, queue.results_root)
        if same is not None:
            return render(request, "same_run.html.j2", run=_run_url(queue.results_root, same), form=form,
                          names=names)
    job = queue.submit(spec)
    return _redirect(f"/jobs/{job.id}")


def _job(request: web.Request) -> Any:
    job = request.app[JOBS].get(request.match_info["id"])
    if job is None:
        raise web.HTTPNotFound(text="no such job (jobs are kept while the studio runs)")
    return job


async def job_page(request: web.Request) -> web.Response:
    return render(request, "job.html.j2", job=_job(request), status_json=_status(request, _job(request)))


def _status(request: web.Request, job: Any) -> dict[str, Any]:
    lang = lang_of(request)
    tr = t(lang)
    status = job.status()
    status["state_text"] = tr(f"state_{job.state}")
    status["progress_text"] = (tr("progress_batch" if job.batch > 1 else "progress", done=job.done, total=job.total,
                                  batch=job.batch) if job.total else "")
    status["eta_text"] = tr("eta", eta=duration(job.eta_s(), lang)) if job.eta_s() is not None else ""
    status["message"] = tr("job_failed", why=failure_text(job.error, lang)) if job.state == FAILED else ""
    status["results_url"] = _run_url(request.app[JOBS].results_root, job.run_dir) if job.state == DONE else None
    status.pop("run", None)
    return status


def failure_text(error: str | None, lang: str) -> str:
    """The command's error in the page's language: a schema problem is translated, its field and value kept."""
    if not error:
        return ""
    match = re.fullmatch(r"(?P<file>.+?): (?P<field>\S+) = (?P<value>.+?): (?P<problem>.+)", error)
    if match:
        return (f"{Path(match['file']).name}: {match['field']} = {match['value']}: "
                f"{translate(match['problem'], lang)}")
    return translate(error, lang)


async def job_status(request: web.Request) -> web.Response:
    return web.json_response(_status(request, _job(request)))


async def cancel_job(request: web.Request) -> web.Response:
    job = _job(request)
    await request.app[JOBS].cancel(job)
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response(_status(request, job))
    return _redirect(f"/jobs/{job.id}")


def _run_url(results_root: Path, run_dir: Path | None) -> str | None:
    if run_dir is None:
        return None
    rel = Path(run_dir).resolve().relative_to(Path(results_root).resolve())
    return f"/runs/{rel.parent.as_posix()}/{rel.name}"


# ---------------------------------------------------------------------------------------------
# Runs and results
# ---------------------------------------------------------------------------------------------
async def runs_page(request: web.Request) -> web.Response:
    lang = lang_of(request)
    queue = request.app[JOBS]
    rows = views.run_rows(queue.results_root, t(lang), lang)
    jobs = [j for j in reversed(list(queue.jobs.values()))]
    return render(request, "runs.html.j2", rows=rows, jobs=jobs, folder=str(queue.results_root))


def _run_dir(request: web.Request) -> Path:
    root = request.app[JOBS].results_root
    run_dir = inside(root, request.match_info["scenario"], request.match_info["run"])
    if not (run_dir / "manifest.json").is_file():
        raise web.HTTPNotFound(text="no such run")
    return run_dir


async def results_page(request: web.Request) -> web.Response:
    lang = lang_of(request)
    tr = t(lang)
    run_dir = _run_dir(request)
    manifest, summary = views.load_run(run_dir)
    kind = manifest.get("kind")
    base = request.path
    if kind == "simulate" and summary:
        scenario = views.scenario_of(manifest)
        figures = {"trajectories": plots.trajectories(summary, tr, lang), "waits": plots.waits(summary, tr, lang),
                   "hours": plots.officer_hours(summary, tr, lang)}
        if scenario is not None and scenario.interventions:
            figures["costs"] = plots.costs(scenario.interventions, tr, lang)
        return render(request, "results.html.j2", manifest=manifest, summary=summary, base=base,
                      answer=views.answer(run_dir, summary, manifest, scenario, lang), figures=figures,
                      charts=export.SIMULATION_CHARTS, tables=export.simulation_tables(summary, tr, lang))
    if kind == "compare" and summary:
        answers = [views.answer(run_dir, s, manifest, views.scenario_of(manifest, k), lang)
                   for k, s in enumerate(summary["summaries"])]
        figures = {"compare": plots.compare_trajectories(summary, tr, lang),
                   "diffs": plots.compare_differences(summary, tr, lang)}
        return render(request, "comparison.html.j2", manifest=manifest, summary=summary, base=base,
                      answers=answers, figures=figures, verdicts=views.verdict_sentence(summary, tr, lang),
                      table=views.difference_table(summary, tr, lang), charts=export.COMPARISON_CHARTS,
                      contributions=views.contribution_tables(summary, tr, lang),
                      tables=export.comparison_tables(summary, tr, lang))
    if kind in STUDY_KINDS and summary:
        view = studies.study_view(run_dir, kind, summary, tr, lang)
        return render(request, "study.html.j2", manifest=manifest, kind=kind, view=view, run_dir=str(run_dir))
    return render(request, "other_run.html.j2", manifest=manifest, base=base,
                  rows=[r for r in views.run_rows(run_dir.parent.parent, tr, lang) if r.path == run_dir])


async def report_file(request: web.Request) -> web.StreamResponse:
    run_dir = _run_dir(request)
    manifest, summary = views.load_run(run_dir)
    kind = manifest.get("kind")
    if kind == "compare" and summary and "scenario" not in request.query:
        path = export.comparison_report(run_dir, manifest, summary, lang_of(request))
    elif kind in ("simulate", "compare") and summary:
        index = _int(request.query, "scenario", 0)
        if kind == "compare" and index >= len(summary["summaries"]):
            raise web.HTTPNotFound()
        path = export.report(run_dir, manifest, summary, lang_of(request), index)
    else:
        found = next((run_dir / p for p in ("report.html", "locust/report.html") if (run_dir / p).is_file()), None)
        if found is None:
            raise web.HTTPNotFound(text="this run has no report")
        path = found
    return web.FileResponse(path, headers={"Content-Type": "text/html; charset=utf-8",
                                           "Content-Security-Policy": "default-src 'none'; img-src data:; "
                                           "style-src 'unsafe-inline'; script-src 'unsafe-inline'"})


def _summary_of(request: web.Request) -> tuple[Path, str, dict[str, Any]]:
    run_dir = _run_dir(request)
    manifest, summary = views.load_run(run_dir)
    if manifest.get("kind") not in ("simulate", "compare") or not summary:
        raise web.HTTPNotFound(text="exports are offered for simulate and compare runs")
    return run_dir, manifest["kind"], summary


async def chart_file(request: web.Request) -> web.StreamResponse:
    run_dir, kind, summary = _summary_of(request)
    lang = lang_of(request)
    name, fmt = request.match_info["name"], request.match_info["fmt"]
    allowed = export.COMPARISON_CHARTS if kind == "compare" else export.SIMULATION_CHARTS
    if name not in allowed or fmt not in export.FORMATS:
        raise web.HTTPNotFound()
    folder = request.app[JOBS].folder / "exports" / run_dir.parent.name / run_dir.name / lang
    path = folder / f"{name}.{fmt}"
    if not path.exists():
        path = export.chart(kind, summary, name, fmt, lang, folder)
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _tables(request: web.Request) -> tuple[str, list[export.Table]]:
    run_dir, kind, summary = _summary_of(request)
    lang = lang_of(request)
    tr = t(lang)
    tables = (export.comparison_tables(summary, tr, lang) if kind == "compare"  # type: ignore[arg-type]
              else export.simulation_tables(summary, tr, lang))  # type: ignore[arg-type]
    return f"{run_dir.parent.name}-{run_dir.name}", tables


async def tables_xlsx(request: web.Request) -> web.Response:
    name, tables = _tables(request)
    return web.Response(body=export.xlsx(tables), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f'attachment; filename="{name}.xlsx"'})


async def table_csv(request: web.Request) -> web.Response:
    name, tables = _tables(request)
    index = request.match_info["index"]
    if not index.isdigit() or int(index) >= len(tables):
        raise web.HTTPNotFound()
    return web.Response(body=export.csv_bytes(tables[int(index)]), headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}-{index}.csv"'})

