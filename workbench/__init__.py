"""The trainers' workbench (issue 15): a web app, its own process
(`python -m workbench`, WORKBENCH_HOST:WORKBENCH_PORT, loopback:5078 by
default), signed into with the console's accounts by those holding the
trainer role (or admins). Security — headers, sessions, CSRF, sign-in,
audit — is handoff.web's, shared with the operators' console.

How a feature plugs in (the one convention)
-------------------------------------------
* A feature is a module ``workbench/pages/<feature>.py`` exposing
  ``def register(app: web.Application) -> None`` that adds its routes
  (pages under ``/<feature>``, JSON under ``/api/<feature>/...``).
* It is listed once in ``workbench.app.FEATURES``; the navigation bar is
  ``workbench.web.SECTIONS`` (/inbox, /conversations, /responses, /training,
  /changes). A section's stub in ``workbench/pages/<feature>.py`` is replaced
  by the real module of the same name.
* Templates go to ``workbench/templates/<feature>/*.html`` and extend
  ``base.html`` (blocks ``title``, ``content``, ``scripts``); scripts and styles
  are files under ``workbench/static/`` (the CSP forbids inline scripts and
  styles). Pages read the CSRF token from ``<meta name="csrf-token">``;
  ``/static/workbench.js`` gives ``workbench.post(url, data)`` for fetch calls.
* Handlers use ``workbench.web``: ``actor(request)`` (the trainer: id,
  login, display_name), ``render(request, template, **context)``,
  ``json(data)``, ``refuse(request, status, message)``,
  ``audit(request, action, detail)``, ``form(request)``,
  ``project_dir(request)``, ``project_file(request, "data/nlu/faq.yml")``
  (refuses paths outside the project), ``tracker_url(request)``, ``config(request)``,
  ``db(request, func, *args)`` (a blocking call on the accounts' database,
  off the event loop).
* Every write into the project's files goes through ``workbench.files``
  (versioned reads, atomic writes, one lock per file, ``EditConflict`` with
  a Russian message when another trainer changed the file meanwhile).
"""
