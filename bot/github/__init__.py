"""The GitHub door: the only package that talks to GitHub or imports githubkit.

`webhooks` and `payloads` read deliveries without I/O. `connect.open_github` opens the REST
door, `api.GitHubAdapter` (pull requests, comments, review comments, CI; `.hooks` for webhook
deliveries, `.account` for who is calling), on one githubkit client (`client`) with a token or
an App (`auth`: JWTs, installation tokens shared through the store); `errors` maps githubkit's
failures to the runtime's; `shapes` are the plain answers; `deliveries` finds and redelivers
missed webhooks; `permissions` and `app-manifest.json` say what access prbot needs.
"""
