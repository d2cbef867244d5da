# Defaults for every environment; group_data/<environment>.py overrides them.
# Secrets never appear here: they are read from secrets/<environment>/.

apt_update = True

# Application
app_port = 6543
app_threads = 8
app_demo_data = False
db_name = "mimamori"
db_user = "mimamori"
db_host = "db1"

# Load balancers
vrrp_interface = "eth0"
vrrp_router_id = 77
vip_prefix = 24
acme_http_port = 8888
