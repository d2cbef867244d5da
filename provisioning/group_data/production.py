# Production (with inventories/production.py, copied from production.example.py).
# Replace every value here with the real one before the first deployment.
env = "production"

site_name = "mimamori.example.jp"
vip = "203.0.113.10"
vrrp_priorities = {"lb1": 150, "lb2": 100}
admin_cidrs = ["198.51.100.0/24"]  # the ward office's global ranges
acme_directory = "https://acme-v02.api.letsencrypt.org/directory"
acme_email = "ops@mimamori.example.jp"
