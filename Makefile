# Entry points. Each target is a thin wrapper around a script in ci/ so that
# CI (.ci/run), the README and operators all run the same code.
.PHONY: run test lock sbom lab-up lab-down lab-status deploy lab-test bench

run:            ## venv, install, migrate SQLite under var/, demo data, serve on :6543
	bash ci/run-app

test:           ## unit + functional (SQLite and PostgreSQL) + browser tests
	bash ci/test

lock:           ## re-resolve the hash-pinned locks in locks/ and show what changed
	bash ci/lock

sbom:           ## CycloneDX SBOM of what a release installs (sbom.cdx.json)
	bash ci/sbom sbom.cdx.json

lab-up:         ## boot the Debian 12 test hosts (root)
	bash ci/lab/lab up

lab-down:       ## remove the test hosts, their cgroups and the bridge (root)
	bash ci/lab/lab down

lab-status:
	bash ci/lab/lab status

deploy:         ## deploy everything to the lab with pyinfra
	bash ci/deploy lab

lab-test:       ## lab up, deploy once, run lab tests and drills, lab down (root; LAB_IMAGE=bare: from bare Debian 12, the release gate)
	bash ci/lab-test
