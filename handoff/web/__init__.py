"""Web security shared by the operators' console and the trainers' workbench:
headers, sessions, CSRF, sign-in pages and API (handoff.web.security,
handoff.web.login). An app describes itself with a `Guard` (cookie names,
public paths, the role it requires) and installs both with `install`."""
