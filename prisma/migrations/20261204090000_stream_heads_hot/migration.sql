-- Every command rewrites its aggregate's head (`streams`), and the projector repairs the heads of
-- events published by other services: a new `state` each time. The GIN index that finds a role's
-- members (role deletion) was on the expression `state->'roles'`, so PostgreSQL counted every
-- change of `state` as a change of an indexed column: no head update could be HOT, each one wrote
-- a new entry in the primary key and the role's GIN postings, even when the roles did not change
-- (a login, a rename). Indexed through a stored generated column instead, a head update whose
-- roles are the same changes no indexed column, and with room left on its page (fillfactor) it
-- is a HOT update. Adding the column rewrites the table once, under its lock.
ALTER TABLE "streams" ADD COLUMN "roles" JSONB GENERATED ALWAYS AS ("state"->'roles') STORED;
DROP INDEX "streams_state_roles_idx";
CREATE INDEX "streams_roles_idx" ON "streams" USING gin ("roles") WITH (fastupdate = off);
ALTER TABLE "streams" SET (fillfactor = 80);
