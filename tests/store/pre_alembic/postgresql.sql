-- The schema the app made before it had migrations (Database.create_all at b931c23), as PostgreSQL 15 holds it:
-- pg_dump --schema-only --no-owner --no-privileges --no-comments, less its SET lines

CREATE TABLE public.api_keys (
    id integer NOT NULL,
    key_hash character varying(64) NOT NULL,
    prefix character varying(12) NOT NULL,
    role character varying(16) NOT NULL,
    rep_id character varying(64),
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);

CREATE SEQUENCE public.api_keys_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.api_keys_id_seq OWNED BY public.api_keys.id;

CREATE TABLE public.calendar_task (
    id bigint NOT NULL,
    key character varying NOT NULL,
    rep_id character varying NOT NULL,
    transfer_id character varying NOT NULL,
    due_at timestamp with time zone NOT NULL,
    title character varying NOT NULL,
    description text NOT NULL,
    done boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone
);

CREATE SEQUENCE public.calendar_task_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.calendar_task_id_seq OWNED BY public.calendar_task.id;

CREATE TABLE public.calendar_tokens (
    id integer NOT NULL,
    token_hash character varying(64) NOT NULL,
    rep_id character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone
);

CREATE SEQUENCE public.calendar_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.calendar_tokens_id_seq OWNED BY public.calendar_tokens.id;

CREATE TABLE public.crm_account (
    account_id character varying NOT NULL,
    company character varying,
    contact_name character varying,
    email character varying,
    phone character varying,
    email_key character varying,
    phone_key character varying,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);

CREATE TABLE public.crm_activity (
    id bigint NOT NULL,
    key character varying NOT NULL,
    account_id character varying NOT NULL,
    at timestamp with time zone NOT NULL,
    kind character varying NOT NULL,
    text text NOT NULL
);

CREATE SEQUENCE public.crm_activity_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.crm_activity_id_seq OWNED BY public.crm_activity.id;

CREATE TABLE public.feedback (
    id integer NOT NULL,
    transfer_id character varying(100) NOT NULL,
    source character varying(16) NOT NULL,
    rep_id character varying(64),
    at timestamp with time zone NOT NULL,
    data json NOT NULL
);

CREATE SEQUENCE public.feedback_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.feedback_id_seq OWNED BY public.feedback.id;

CREATE TABLE public.outbox (
    id bigint NOT NULL,
    transfer_id character varying NOT NULL,
    key character varying NOT NULL,
    audience character varying(16) NOT NULL,
    rep_id character varying,
    kind character varying NOT NULL,
    payload jsonb NOT NULL,
    callback_url character varying,
    email_to character varying,
    chat_to character varying,
    created_at timestamp with time zone NOT NULL
);

CREATE TABLE public.outbox_delivery (
    outbox_id bigint NOT NULL,
    channel character varying(16) NOT NULL,
    status character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    lease_token character varying,
    lease_until timestamp with time zone,
    last_error character varying,
    delivered_at timestamp with time zone
);

CREATE SEQUENCE public.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.outbox_id_seq OWNED BY public.outbox.id;

CREATE TABLE public.queue (
    transfer_id character varying(100) NOT NULL,
    team character varying(40) NOT NULL,
    language character varying(2) DEFAULT ''::character varying NOT NULL,
    routing json NOT NULL,
    priority integer NOT NULL,
    arrival integer NOT NULL,
    enqueued_at timestamp with time zone NOT NULL
);

CREATE TABLE public.rep_usage (
    id integer NOT NULL,
    transfer_id character varying(100) NOT NULL,
    rep_id character varying(64) NOT NULL,
    item character varying(80) NOT NULL,
    at timestamp with time zone NOT NULL
);

CREATE SEQUENCE public.rep_usage_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.rep_usage_id_seq OWNED BY public.rep_usage.id;

CREATE TABLE public.reps (
    id character varying(64) NOT NULL,
    team character varying(40) NOT NULL,
    profile json NOT NULL,
    presence character varying(16) NOT NULL,
    presence_changed_at timestamp with time zone,
    last_assigned_at timestamp with time zone,
    capacity integer DEFAULT 1 NOT NULL,
    active integer DEFAULT 0 NOT NULL,
    languages character varying(80) NOT NULL,
    skills text DEFAULT ','::text NOT NULL,
    shift character varying(40) NOT NULL,
    profile_rev character varying(32)
);

CREATE TABLE public.seats (
    transfer_id character varying(100) NOT NULL,
    rep_id character varying(64) NOT NULL,
    reserved_at timestamp with time zone NOT NULL
);

CREATE TABLE public.transfer_events (
    id integer NOT NULL,
    transfer_id character varying(100) NOT NULL,
    seq integer NOT NULL,
    at timestamp with time zone NOT NULL,
    status character varying(32) NOT NULL,
    kind character varying(40) NOT NULL,
    rep_id character varying(64),
    detail character varying(2000) NOT NULL,
    data json NOT NULL
);

CREATE SEQUENCE public.transfer_events_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.transfer_events_id_seq OWNED BY public.transfer_events.id;

CREATE TABLE public.transfers (
    transfer_id character varying(100) NOT NULL,
    status character varying(32) NOT NULL,
    branch character varying(32),
    team character varying(40),
    rep_id character varying(64),
    score integer,
    outcome character varying(32),
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    summary json NOT NULL
);

ALTER TABLE ONLY public.api_keys ALTER COLUMN id SET DEFAULT nextval('public.api_keys_id_seq'::regclass);

ALTER TABLE ONLY public.calendar_task ALTER COLUMN id SET DEFAULT nextval('public.calendar_task_id_seq'::regclass);

ALTER TABLE ONLY public.calendar_tokens ALTER COLUMN id SET DEFAULT nextval('public.calendar_tokens_id_seq'::regclass);

ALTER TABLE ONLY public.crm_activity ALTER COLUMN id SET DEFAULT nextval('public.crm_activity_id_seq'::regclass);

ALTER TABLE ONLY public.feedback ALTER COLUMN id SET DEFAULT nextval('public.feedback_id_seq'::regclass);

ALTER TABLE ONLY public.outbox ALTER COLUMN id SET DEFAULT nextval('public.outbox_id_seq'::regclass);

ALTER TABLE ONLY public.rep_usage ALTER COLUMN id SET DEFAULT nextval('public.rep_usage_id_seq'::regclass);

ALTER TABLE ONLY public.transfer_events ALTER COLUMN id SET DEFAULT nextval('public.transfer_events_id_seq'::regclass);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.calendar_task
    ADD CONSTRAINT calendar_task_key_key UNIQUE (key);

ALTER TABLE ONLY public.calendar_task
    ADD CONSTRAINT calendar_task_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.calendar_tokens
    ADD CONSTRAINT calendar_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.calendar_tokens
    ADD CONSTRAINT calendar_tokens_token_hash_key UNIQUE (token_hash);

ALTER TABLE ONLY public.crm_account
    ADD CONSTRAINT crm_account_pkey PRIMARY KEY (account_id);

ALTER TABLE ONLY public.crm_activity
    ADD CONSTRAINT crm_activity_key_key UNIQUE (key);

ALTER TABLE ONLY public.crm_activity
    ADD CONSTRAINT crm_activity_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_transfer_id_source_key UNIQUE (transfer_id, source);

ALTER TABLE ONLY public.outbox_delivery
    ADD CONSTRAINT outbox_delivery_pkey PRIMARY KEY (outbox_id, channel);

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_arrival_key UNIQUE (arrival);

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_pkey PRIMARY KEY (transfer_id);

ALTER TABLE ONLY public.rep_usage
    ADD CONSTRAINT rep_usage_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.rep_usage
    ADD CONSTRAINT rep_usage_transfer_id_rep_id_item_key UNIQUE (transfer_id, rep_id, item);

ALTER TABLE ONLY public.reps
    ADD CONSTRAINT reps_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.seats
    ADD CONSTRAINT seats_pkey PRIMARY KEY (transfer_id);

ALTER TABLE ONLY public.transfer_events
    ADD CONSTRAINT transfer_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.transfer_events
    ADD CONSTRAINT transfer_events_transfer_id_seq_key UNIQUE (transfer_id, seq);

ALTER TABLE ONLY public.transfers
    ADD CONSTRAINT transfers_pkey PRIMARY KEY (transfer_id);

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT uq_outbox_transfer_key UNIQUE (transfer_id, key);

CREATE INDEX ix_calendar_task_rep_due ON public.calendar_task USING btree (rep_id, due_at);

CREATE INDEX ix_calendar_task_transfer_id ON public.calendar_task USING btree (transfer_id);

CREATE INDEX ix_calendar_tokens_rep_id ON public.calendar_tokens USING btree (rep_id);

CREATE INDEX ix_crm_account_company ON public.crm_account USING btree (company);

CREATE INDEX ix_crm_account_email_key ON public.crm_account USING btree (email_key);

CREATE INDEX ix_crm_account_phone_key ON public.crm_account USING btree (phone_key);

CREATE INDEX ix_crm_activity_account_at ON public.crm_activity USING btree (account_id, at);

CREATE INDEX ix_feedback_transfer_id ON public.feedback USING btree (transfer_id);

CREATE INDEX ix_outbox_delivery_due ON public.outbox_delivery USING btree (channel, status, next_attempt_at);

CREATE INDEX ix_outbox_rep_id ON public.outbox USING btree (rep_id, id);

CREATE INDEX ix_queue_head ON public.queue USING btree (priority DESC, arrival, team, language);

CREATE INDEX ix_queue_order ON public.queue USING btree (priority, arrival);

CREATE INDEX ix_queue_team_order ON public.queue USING btree (team, priority DESC, arrival, transfer_id);

CREATE INDEX ix_rep_usage_at ON public.rep_usage USING btree (at);

CREATE INDEX ix_rep_usage_transfer_id ON public.rep_usage USING btree (transfer_id);

CREATE INDEX ix_reps_best_free ON public.reps USING btree (presence, team, (((active)::double precision / ((capacity)::numeric)::double precision)), ((last_assigned_at IS NOT NULL)), last_assigned_at, id COLLATE "C", active, capacity, profile_rev, shift, languages, skills) WHERE (active < capacity);

CREATE INDEX ix_reps_room ON public.reps USING btree (presence, team, shift, active, capacity, last_assigned_at, id, profile_rev) WHERE (active < capacity);

CREATE INDEX ix_reps_shift ON public.reps USING btree (team, shift, presence, languages, capacity, id);

CREATE INDEX ix_reps_team ON public.reps USING btree (team);

CREATE INDEX ix_seats_rep_id ON public.seats USING btree (rep_id);

CREATE INDEX ix_transfer_events_at ON public.transfer_events USING btree (at);

CREATE INDEX ix_transfer_events_transfer_id ON public.transfer_events USING btree (transfer_id);

CREATE INDEX ix_transfers_created_at ON public.transfers USING btree (created_at);

CREATE INDEX ix_transfers_rep_id ON public.transfers USING btree (rep_id);

CREATE INDEX ix_transfers_status ON public.transfers USING btree (status);

CREATE INDEX ix_transfers_team ON public.transfers USING btree (team);

ALTER TABLE ONLY public.crm_activity
    ADD CONSTRAINT crm_activity_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.crm_account(account_id);

ALTER TABLE ONLY public.outbox_delivery
    ADD CONSTRAINT outbox_delivery_outbox_id_fkey FOREIGN KEY (outbox_id) REFERENCES public.outbox(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.seats
    ADD CONSTRAINT seats_rep_id_fkey FOREIGN KEY (rep_id) REFERENCES public.reps(id);

