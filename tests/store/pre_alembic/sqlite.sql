-- The schema the app made before it had migrations (Database.create_all at b931c23), as SQLite holds it: sqlite3 .schema
CREATE TABLE reps (
	id VARCHAR(64) NOT NULL, 
	team VARCHAR(40) NOT NULL, 
	profile JSON NOT NULL, 
	presence VARCHAR(16) NOT NULL, 
	presence_changed_at DATETIME, 
	last_assigned_at DATETIME, 
	capacity INTEGER DEFAULT '1' NOT NULL, 
	active INTEGER DEFAULT '0' NOT NULL, 
	languages VARCHAR(80) NOT NULL, 
	skills TEXT DEFAULT ',' NOT NULL, 
	shift VARCHAR(40) NOT NULL, 
	profile_rev VARCHAR(32), 
	PRIMARY KEY (id)
);
CREATE INDEX ix_reps_team ON reps (team);
CREATE INDEX ix_reps_best_free ON reps (presence, team, CAST(active AS FLOAT) / (capacity + 0.0), last_assigned_at IS NOT NULL, last_assigned_at, id COLLATE BINARY, active, capacity, profile_rev, shift, languages, skills) WHERE active < capacity;
CREATE INDEX ix_reps_room ON reps (presence, team, shift, active, capacity, last_assigned_at, id, profile_rev) WHERE active < capacity;
CREATE INDEX ix_reps_shift ON reps (team, shift, presence, languages, capacity, id);
CREATE TABLE queue (
	transfer_id VARCHAR(100) NOT NULL, 
	team VARCHAR(40) NOT NULL, 
	language VARCHAR(2) DEFAULT '' NOT NULL, 
	routing JSON NOT NULL, 
	priority INTEGER NOT NULL, 
	arrival INTEGER NOT NULL, 
	enqueued_at DATETIME NOT NULL, 
	PRIMARY KEY (transfer_id), 
	UNIQUE (arrival)
);
CREATE INDEX ix_queue_head ON queue (priority DESC, arrival, team, language);
CREATE INDEX ix_queue_team_order ON queue (team, priority DESC, arrival, transfer_id);
CREATE INDEX ix_queue_order ON queue (priority, arrival);
CREATE TABLE transfers (
	transfer_id VARCHAR(100) NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	branch VARCHAR(32), 
	team VARCHAR(40), 
	rep_id VARCHAR(64), 
	score INTEGER, 
	outcome VARCHAR(32), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	summary JSON NOT NULL, 
	PRIMARY KEY (transfer_id)
);
CREATE INDEX ix_transfers_rep_id ON transfers (rep_id);
CREATE INDEX ix_transfers_team ON transfers (team);
CREATE INDEX ix_transfers_status ON transfers (status);
CREATE INDEX ix_transfers_created_at ON transfers (created_at);
CREATE TABLE transfer_events (
	id INTEGER NOT NULL, 
	transfer_id VARCHAR(100) NOT NULL, 
	seq INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	status VARCHAR(32) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	rep_id VARCHAR(64), 
	detail VARCHAR(2000) NOT NULL, 
	data JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (transfer_id, seq)
);
CREATE INDEX ix_transfer_events_transfer_id ON transfer_events (transfer_id);
CREATE INDEX ix_transfer_events_at ON transfer_events (at);
CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	transfer_id VARCHAR(100) NOT NULL, 
	source VARCHAR(16) NOT NULL, 
	rep_id VARCHAR(64), 
	at DATETIME NOT NULL, 
	data JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (transfer_id, source)
);
CREATE INDEX ix_feedback_transfer_id ON feedback (transfer_id);
CREATE TABLE api_keys (
	id INTEGER NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	prefix VARCHAR(12) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	rep_id VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (key_hash)
);
CREATE TABLE calendar_tokens (
	id INTEGER NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	rep_id VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (token_hash)
);
CREATE INDEX ix_calendar_tokens_rep_id ON calendar_tokens (rep_id);
CREATE TABLE outbox (
	id INTEGER NOT NULL, 
	transfer_id VARCHAR NOT NULL, 
	"key" VARCHAR NOT NULL, 
	audience VARCHAR(16) NOT NULL, 
	rep_id VARCHAR, 
	kind VARCHAR NOT NULL, 
	payload JSON NOT NULL, 
	callback_url VARCHAR, 
	email_to VARCHAR, 
	chat_to VARCHAR, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_outbox_transfer_key UNIQUE (transfer_id, "key")
);
CREATE INDEX ix_outbox_rep_id ON outbox (rep_id, id);
CREATE TABLE crm_account (
	account_id VARCHAR NOT NULL, 
	company VARCHAR, 
	contact_name VARCHAR, 
	email VARCHAR, 
	phone VARCHAR, 
	email_key VARCHAR, 
	phone_key VARCHAR, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (account_id)
);
CREATE INDEX ix_crm_account_company ON crm_account (company);
CREATE INDEX ix_crm_account_email_key ON crm_account (email_key);
CREATE INDEX ix_crm_account_phone_key ON crm_account (phone_key);
CREATE TABLE calendar_task (
	id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	rep_id VARCHAR NOT NULL, 
	transfer_id VARCHAR NOT NULL, 
	due_at DATETIME NOT NULL, 
	title VARCHAR NOT NULL, 
	description TEXT NOT NULL, 
	done BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	completed_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE ("key")
);
CREATE INDEX ix_calendar_task_transfer_id ON calendar_task (transfer_id);
CREATE INDEX ix_calendar_task_rep_due ON calendar_task (rep_id, due_at);
CREATE TABLE rep_usage (
	id INTEGER NOT NULL, 
	transfer_id VARCHAR(100) NOT NULL, 
	rep_id VARCHAR(64) NOT NULL, 
	item VARCHAR(80) NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (transfer_id, rep_id, item)
);
CREATE INDEX ix_rep_usage_transfer_id ON rep_usage (transfer_id);
CREATE INDEX ix_rep_usage_at ON rep_usage (at);
CREATE TABLE seats (
	transfer_id VARCHAR(100) NOT NULL, 
	rep_id VARCHAR(64) NOT NULL, 
	reserved_at DATETIME NOT NULL, 
	PRIMARY KEY (transfer_id), 
	FOREIGN KEY(rep_id) REFERENCES reps (id)
);
CREATE INDEX ix_seats_rep_id ON seats (rep_id);
CREATE TABLE outbox_delivery (
	outbox_id INTEGER NOT NULL, 
	channel VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	lease_token VARCHAR, 
	lease_until DATETIME, 
	last_error VARCHAR, 
	delivered_at DATETIME, 
	PRIMARY KEY (outbox_id, channel), 
	FOREIGN KEY(outbox_id) REFERENCES outbox (id) ON DELETE CASCADE
);
CREATE INDEX ix_outbox_delivery_due ON outbox_delivery (channel, status, next_attempt_at);
CREATE TABLE crm_activity (
	id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	account_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE ("key"), 
	FOREIGN KEY(account_id) REFERENCES crm_account (account_id)
);
CREATE INDEX ix_crm_activity_account_at ON crm_activity (account_id, at);
