# Staging: production's settings with its own names, CA, secrets and ACME staging.
env = "staging"

site_name = "stg.mimamori.example.jp"
vip = "192.0.2.10"
vrrp_priorities = {"stg-lb1": 150, "stg-lb2": 100}
db_host = "stg-db1"
admin_cidrs = ["198.51.100.0/24"]
# Let's Encrypt's staging CA: real validation, untrusted certificates, high limits.
acme_directory = "https://acme-staging-v02.api.letsencrypt.org/directory"
acme_email = "ops@mimamori.example.jp"
