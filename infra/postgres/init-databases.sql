-- One database per ledger: each central bank keeps its own (data sovereignty), and the
-- bridge, vouchers and supervision each own theirs. The names are corridor/pg.py's
-- database_name(ledger). A service creates its database if it is missing, but creating
-- them here, once, lets the corridor role run without CREATEDB.
-- Run by the postgres image's entrypoint (/docker-entrypoint-initdb.d) on an empty data
-- directory. k8s/base/init-databases.sql is a byte-for-byte copy; tests/infra fails if the
-- two drift.
CREATE DATABASE corridor_cn;
CREATE DATABASE corridor_hk;
CREATE DATABASE corridor_th;
CREATE DATABASE corridor_ae;
CREATE DATABASE corridor_sa;
CREATE DATABASE corridor_bridge;
CREATE DATABASE corridor_vouchers;
CREATE DATABASE corridor_supervision;
