"""Studies beyond the course's two tables, each a pure ``run(...)`` returning a
JSON-ready record plus a thin ``main`` that the DVC stage of the same name calls
(settings: params.yaml ``studies.<name>``); ``src.report`` turns the records
into sections of reports/report.md, and ``bench/`` prints them with wall times.
"""
