-- The built-in roles (src/domain/built-in-roles.ts holds the same sets; a test compares them).
-- They cannot be changed or deleted through the API.
INSERT INTO "user"."roles" ("name", "display_name", "description", "permissions", "built_in") VALUES
  ('admin', 'Administrator', 'Every permission of the platform.', ARRAY['*'], true),
  ('manager', 'Manager', 'Runs warehouses, items, stock, reservations and units; reads users and the audit trail; manages API keys.',
    ARRAY['apikey.manage', 'audit.read', 'item.*', 'report.read', 'reservation.*', 'stock.read', 'stock.write', 'unit.*', 'user.read', 'warehouse.*'], true),
  ('clerk', 'Clerk', 'Day-to-day stock work: reads the catalogue, moves stock, handles reservations and units.',
    ARRAY['item.read', 'report.read', 'reservation.manage', 'reservation.read', 'stock.read', 'stock.write', 'unit.read', 'unit.write', 'warehouse.read'], true),
  ('viewer', 'Viewer', 'Reads warehouses, items, stock, reservations, units and reports.',
    ARRAY['item.read', 'report.read', 'reservation.read', 'stock.read', 'unit.read', 'warehouse.read'], true),
  ('service', 'Platform service', 'What a platform service acting on its own behalf may do: introspect tokens, write audit records, hold stock.',
    ARRAY['audit.write', 'item.read', 'reservation.manage', 'reservation.read', 'stock.hold', 'stock.read', 'storage.usage', 'token.introspect', 'warehouse.read'], true)
ON CONFLICT ("name") DO NOTHING;
