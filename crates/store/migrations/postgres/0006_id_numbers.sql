-- Citizen identity numbers of person customers: personal data, stored like names and phones
-- (AES-256-GCM with the key version in the value) with the mask beside it for roles without the right.
ALTER TABLE customers ADD COLUMN id_number_enc TEXT;
ALTER TABLE customers ADD COLUMN id_number_mask TEXT;
