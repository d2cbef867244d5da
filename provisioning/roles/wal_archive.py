"""WAL archiving: what the database nodes (roles/db) and the backup role (roles/backup) both
need to agree on. Its own module so that neither role imports the other for it: roles/backup
reads roles/db's data directory, roles/db only these constants (issue 21, no import circle).
"""

STANZA = "mimamori"
# What Patroni's PostgreSQL runs for every finished WAL segment (roles/db adds it
# to the parameters whenever the inventory has a backup host). Asynchronous:
# the segment is queued in the spool and pushed in batches.
ARCHIVE_COMMAND = f"pgbackrest --stanza={STANZA} archive-push %p"
# A segment is archived at least this often (seconds) while there are writes:
# the most data a lost cluster plus a lost standby could cost (RPO, runbooks/backup.md).
ARCHIVE_TIMEOUT = 60
