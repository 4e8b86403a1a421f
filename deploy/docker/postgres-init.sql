-- First start of the compose PostgreSQL only (docker-entrypoint-initdb.d): one database per
-- service, so no service reads another's tables. Runs as POSTGRES_USER (vigie), the owner.
CREATE DATABASE vigie_ingest;
CREATE DATABASE vigie_moderator;
CREATE DATABASE vigie_responder;
CREATE DATABASE vigie_audit;
