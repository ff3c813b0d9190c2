-- Roles for a fleet's devices (edgebench agent): run as the database's
-- owner, after the store and the fleet tables exist (the first
-- 'edgebench fleet submit' makes them), e.g.
--   psql "postgresql://owner@server/edgebench" -v device=pi5_lab1 -f scripts/fleet-roles.sql
-- or 'make fleet-roles STORE=postgresql://owner@server/edgebench DEVICE=pi5_lab1'.
-- edgebench_device may claim trials and write results: it reads and adds
-- rows, updates the claims and its own device row, and deletes nothing but
-- the llama-bench summary rows it rewrites; it cannot create, alter or drop
-- tables. Each device logs in as a role of its own that is a member; give it
-- a password with \password (never on a command line) or use client
-- certificates, and choose TLS in the store spec with libpq's own settings
-- (sslmode=verify-full, sslrootcert=...).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edgebench_device') THEN
    CREATE ROLE edgebench_device NOLOGIN;
  END IF;
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM edgebench_device;
GRANT USAGE ON SCHEMA public TO edgebench_device;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO edgebench_device;
GRANT UPDATE ON fleet_items, fleet_devices, trials, models TO edgebench_device;
GRANT DELETE ON lb_tests TO edgebench_device;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO edgebench_device;
SELECT format('CREATE ROLE %I LOGIN IN ROLE edgebench_device', :'device')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'device') \gexec
