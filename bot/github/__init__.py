"""The GitHub door: the only package that talks to GitHub or imports githubkit.

`webhooks` and `payloads` read deliveries without I/O. `connect.open_github` opens the REST
door (`api.GitHubAdapter`, on one githubkit client from `client`) with a token or an App
(`auth`); `shapes` are the plain answers; `deliveries` finds and redelivers missed webhooks.
"""
