// Postgres advisory lock keys (two int4: namespace, connection id), one namespace per purpose.

/** Held (session level) by the process running a connection's sync; gone with its backend if it dies. */
export const SYNC_RUN_LOCK = 0x57_59_4e_01;
/** Taken (transaction level) by every write of a connection's records: keeps primary-sleep recomputes apart. */
export const SYNC_WRITE_LOCK = 0x57_59_4e_02;
