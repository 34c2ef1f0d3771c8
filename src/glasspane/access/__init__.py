"""Who may do what: users and roles, passwords, personal tokens, login sessions.

- ``roles``: viewer < member < admin, and what each may do.
- ``credentials``: argon2 password hashes, generated passwords and tokens, digests.
- ``throttle``: repeated failed logins per name and per client address.
- ``accounts``: the service the web layer calls (no HTTP here): log in, check a
  token or a session, manage users and tokens, and write the audit log.
"""
