-- Issue 25, item 7: a stored schedule that cannot be evaluated (written by hand, by AllYourBase, or
-- its time zone gone from the JVM's data) is disabled with the reason, instead of staying enabled
-- with no next run. Saving the schedule again clears it.
ALTER TABLE "${flyway:defaultSchema}"._ayb_job_schedules ADD COLUMN IF NOT EXISTS last_error TEXT;
