"""Rolling patching (issue 10, O-PATCH): the pure decisions, kept apart from SSH
so unit tests prove them (tests/unit/test_patching_*.py). patch.py in the
provisioning folder drives them host by host."""
