"""Where the app nodes keep the change records' signed checkpoints (S-AUDIT, issue 20):
what the app role (which writes them) and the logging role (which ships them to the log
host) both need. Its own module so that neither role imports the other (issue 21).
"""

# The app's state folder on every app node (roles/app); the file backups keep all of it.
STATE = "/var/lib/mimamori"
# The key pair from the control machine (lib/secrets.py): the signing key the app user alone reads.
AUDIT_KEY_DIR = "/etc/mimamori/audit-keys"
# This node's checkpoint files, one per JST day, named by node.
CHECKPOINT_DIR = f"{STATE}/audit-checkpoints"
