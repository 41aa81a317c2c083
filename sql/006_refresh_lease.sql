-- One token refresh per connection across every process, without holding a transaction or a row lock
-- while WHOOP answers: a lease (owner, expiry) taken and released in short statements. A holder that
-- died leaves a lease that simply expires.
ALTER TABLE integration_connection
  ADD COLUMN refresh_lease_owner uuid,
  ADD COLUMN refresh_lease_until timestamptz;
