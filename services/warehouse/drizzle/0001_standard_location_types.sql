-- The standard hierarchy every warehouse starts with: zone > aisle > shelf > bin.
-- Fixed ids so every environment agrees on them; they can be renamed or deleted like any other type.
INSERT INTO "warehouse"."location_types" ("id", "code", "name", "description") VALUES
  ('00000000-0000-7000-8000-000000000001', 'ZONE', 'Zone', 'An area of the warehouse, e.g. receiving, bulk storage, picking, dispatch'),
  ('00000000-0000-7000-8000-000000000002', 'AISLE', 'Aisle', 'A row of racks inside a zone'),
  ('00000000-0000-7000-8000-000000000003', 'SHELF', 'Shelf', 'A level of a rack in an aisle'),
  ('00000000-0000-7000-8000-000000000004', 'BIN', 'Bin', 'The smallest addressable place on a shelf');
