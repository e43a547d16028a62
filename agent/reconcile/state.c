/* SPDX-License-Identifier: MIT */
/* State file and metrics textfile. The state file never holds secrets (no token, no
 * metadata body): only routes, counters, times and the last error line. */
#include <sys/stat.h>

#include "api_round.h"
#include "json.h"
#include "state.h"

/* With peers, each route also names the peering its destination comes from. */
static void add_routes(cJSON *root, const char *key, const struct route_set *s, const struct api_peers *peers) {
        cJSON *a = cJSON_AddArrayToObject(root, key);
        for (size_t i = 0; a && s && i < s->n; i++) {
                cJSON *o = json_from_route(&s->routes[i]);
                struct cidr c = { s->routes[i].dst, s->routes[i].dst_len };
                const struct api_peer *p = peers ? api_peers_find(peers, &c) : NULL;
                if (!o)
                        continue;
                if (p)
                        cJSON_AddItemToObject(o, "peering", api_peer_to_json(p));
                cJSON_AddItemToArray(a, o);
        }
}

static void add_time(cJSON *root, const char *key, uint64_t t) {
        if (t)
                cJSON_AddNumberToObject(root, key, (double) t);
        else
                cJSON_AddNullToObject(root, key);
}

int state_write(const char *path, const struct agent_state *s) {
        cJSON *root = cJSON_CreateObject(), *conflicts, *counters, *fights;
        char *text;
        char gw[IPV4_STRLEN];
        int r;

        if (!root)
                return -ENOMEM;
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddNumberToObject(root, "pid", s->pid);
        add_time(root, "updated", s->updated);
        add_time(root, "last_success", s->last_success);
        if (s->last_error[0]) {
                cJSON_AddStringToObject(root, "last_error", s->last_error);
                add_time(root, "last_error_time", s->last_error_time);
        } else {
                cJSON_AddNullToObject(root, "last_error");
                cJSON_AddNullToObject(root, "last_error_time");
        }
        add_time(root, "failing_since", s->failing_since);
        cJSON_AddStringToObject(root, "source", s->source);
        cJSON_AddStringToObject(root, "status", s->status);
        if (s->egress) {
                cJSON *e = cJSON_AddObjectToObject(root, "egress");
                if (e) {
                        cJSON_AddStringToObject(e, "summary", s->egress);
                        cJSON_AddBoolToObject(e, "active", s->egress_active);
                }
        } else
                cJSON_AddNullToObject(root, "egress");
        if (s->have_link)
                cJSON_AddStringToObject(root, "interface", s->ifname);
        else
                cJSON_AddNullToObject(root, "interface");
        if (s->have_metadata) {
                cJSON_AddStringToObject(root, "gateway", ipv4_to_string(s->gateway, gw));
                cJSON_AddStringToObject(root, "gateway_source", gateway_origin_to_string(s->gateway_origin));
        } else {
                cJSON_AddNullToObject(root, "gateway");
                cJSON_AddNullToObject(root, "gateway_source");
        }
        if (s->have_metadata && s->peering_enabled != TRISTATE_ABSENT)
                cJSON_AddBoolToObject(root, "vpc_peering_enabled", s->peering_enabled == TRISTATE_TRUE);
        else
                cJSON_AddNullToObject(root, "vpc_peering_enabled");
        add_routes(root, "desired", s->desired, s->peers);
        add_routes(root, "installed", s->installed, NULL);
        conflicts = cJSON_AddArrayToObject(root, "conflicts");
        for (size_t i = 0; conflicts && s->plan && i < s->plan->n; i++) {
                const struct plan_action *a = &s->plan->actions[i];
                cJSON *o;
                if (a->kind != PLAN_CONFLICT || !(o = cJSON_CreateObject()))
                        continue;
                cJSON_AddItemToObject(o, "wanted", json_from_route(&a->want));
                cJSON_AddItemToObject(o, "held_by", json_from_route(&a->have));
                cJSON_AddItemToArray(conflicts, o);
        }
        fights = cJSON_AddArrayToObject(root, "fights");
        for (size_t i = 0; fights && s->fights && i < s->fights->n; i++) {
                const struct fight *f = &s->fights->list[i];
                struct cidr c = { f->key.dst, f->key.dst_len };
                char dst[CIDR_STRLEN];
                cJSON *o;
                if (!heal_fight_ongoing(f, s->now) || !(o = cJSON_CreateObject()))
                        continue;
                cJSON_AddStringToObject(o, "destination", cidr_to_string(&c, dst));
                cJSON_AddNumberToObject(o, "removals", f->removals);
                cJSON_AddNumberToObject(o, "pause_ms", (double) f->pause / 1000.0);
                cJSON_AddItemToArray(fights, o);
        }
        if (s->pace) {
                cJSON *pace = cJSON_AddObjectToObject(root, "api_pacing");
                if (pace) {
                        cJSON_AddNumberToObject(pace, "interval_seconds", (double) s->pace->interval / 1e6);
                        cJSON_AddNumberToObject(pace, "fleet", s->pace->fleet);
                        cJSON_AddNumberToObject(pace, "token_used", (double) s->pace->used);
                        cJSON_AddNumberToObject(pace, "token_limit", (double) s->pace->limit);
                }
        } else
                cJSON_AddNullToObject(root, "api_pacing");
        counters = cJSON_AddObjectToObject(root, "counters");
        if (counters) {
                cJSON_AddNumberToObject(counters, "reconciles", (double) s->reconciles);
                cJSON_AddNumberToObject(counters, "heals", (double) s->heals);
                cJSON_AddNumberToObject(counters, "heal_backoffs", (double) s->heal_backoffs);
                cJSON_AddNumberToObject(counters, "metadata_errors", (double) s->metadata_errors);
        }

        text = cJSON_Print(root);
        cJSON_Delete(root);
        if (!text)
                return -ENOMEM;
        r = mkdir_parent(path);
        if (r >= 0)
                r = write_file_atomic(path, text, strlen(text), 0644);
        free(text);
        return r;
}

/* A non-negative whole number a state file holds (a time, a pid, a counter), or 0. */
static uint64_t get_number(const cJSON *root, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
        return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e15 ? (uint64_t) v->valuedouble : 0;
}

/* The numbers of the state file's objects that status shows. */
static const struct {
        const char *object, *key;
        size_t offset;              /* of a uint64_t in struct state_summary */
} summary_numbers[] = {
        { "api_pacing", "interval_seconds", offsetof(struct state_summary, api_interval_sec) },
        { "api_pacing", "fleet", offsetof(struct state_summary, api_fleet) },
        { "api_pacing", "token_used", offsetof(struct state_summary, api_used) },
        { "api_pacing", "token_limit", offsetof(struct state_summary, api_limit) },
        { "counters", "reconciles", offsetof(struct state_summary, reconciles) },
        { "counters", "heals", offsetof(struct state_summary, heals) },
        { "counters", "heal_backoffs", offsetof(struct state_summary, heal_backoffs) },
        { "counters", "metadata_errors", offsetof(struct state_summary, metadata_errors) },
};

static void get_text(const cJSON *root, const char *key, char *buf, size_t size) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
        snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int state_parse(const char *text, size_t size, struct state_summary *ret, struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        struct state_summary s = {};
        const cJSON *fights;
        int r;

        r = json_parse_object(text, size, &root, err);
        if (r < 0)
                return r;
        if (get_number(root, "version") != 1) {
                error_set(err, "not a version 1 state file");
                return -EINVAL;
        }
        s.pid = (pid_t) get_number(root, "pid");
        s.updated = get_number(root, "updated");
        s.last_success = get_number(root, "last_success");
        get_text(root, "last_error", s.last_error, sizeof s.last_error);
        get_text(root, "status", s.status, sizeof s.status);
        fights = cJSON_GetObjectItemCaseSensitive(root, "fights");
        for (const cJSON *f = cJSON_IsArray(fights) ? fights->child : NULL; f && s.n_fights < STATE_FIGHTS_MAX; f = f->next) {
                get_text(f, "destination", s.fights[s.n_fights].destination, sizeof s.fights[s.n_fights].destination);
                s.fights[s.n_fights].removals = get_number(f, "removals");
                s.fights[s.n_fights].pause_ms = get_number(f, "pause_ms");
                s.n_fights++;
        }
        for (size_t i = 0; i < ELEMENTSOF(summary_numbers); i++) {
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, summary_numbers[i].object);
                if (cJSON_IsObject(o))
                        *(uint64_t *) ((char *) &s + summary_numbers[i].offset) = get_number(o, summary_numbers[i].key);
        }
        *ret = s;
        return 0;
}

int state_read(const char *path, struct state_summary *ret, struct error *err) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file(path, (size_t) 16 * 1024 * 1024, &text, &size);
        if (r < 0) {
                error_set(err, "%s: %s", path, strerror(-r));
                return r;
        }
        return state_parse(text, size, ret, err);
}

/* ---- the metrics: one row each, in the order the file lists them ---- */

static double m_desired(const struct agent_state *s) {
        return s->desired ? (double) s->desired->n : 0;
}
static double m_installed(const struct agent_state *s) {
        return s->installed ? (double) s->installed->n : 0;
}
static double m_conflicts(const struct agent_state *s) {
        return s->plan ? (double) s->plan->count[PLAN_CONFLICT] : 0;
}
static double m_reconciles(const struct agent_state *s) {
        return (double) s->reconciles;
}
static double m_heals(const struct agent_state *s) {
        return (double) s->heals;
}
static double m_heal_backoffs(const struct agent_state *s) {
        return (double) s->heal_backoffs;
}
static double m_metadata_errors(const struct agent_state *s) {
        return (double) s->metadata_errors;
}
static double m_last_success(const struct agent_state *s) {
        return (double) s->last_success;
}
static double m_fetch_duration(const struct agent_state *s) {
        return (double) s->fetch_duration_usec / 1e6;
}
static double m_poll_cpu(const struct agent_state *s) {
        return (double) s->poll_cpu_usec / 1e6;
}
static double m_egress_active(const struct agent_state *s) {
        return s->egress_active;
}
static double m_api_interval(const struct agent_state *s) {
        uint64_t seconds = s->pace->interval / USEC_PER_SEC; /* whole seconds, as before */
        return (double) seconds;
}
static double m_api_fleet(const struct agent_state *s) {
        return s->pace->fleet;
}
static double m_api_used(const struct agent_state *s) {
        return (double) s->pace->used;
}
static double m_api_limit(const struct agent_state *s) {
        return (double) s->pace->limit;
}

enum metric_needs {
        NEEDS_NOTHING,
        NEEDS_API_ERRORS,           /* source = api: one sample per kind of failure */
        NEEDS_PACE,                 /* source = api, once the API sent its rate-limit headers */
        NEEDS_EGRESS,               /* nat_gateway on */
};

static const struct metric {
        const char *name;
        const char *type;
        const char *help;
        double (*value)(const struct agent_state *s); /* NULL: by kind of API failure */
        int decimals;               /* of the value */
        enum metric_needs needs;
} metrics[] = {
        { "routes_desired", "gauge",
          "Routes the agent wants in place.",
          m_desired, 0, NEEDS_NOTHING },
        { "routes_installed", "gauge",
          "Routes of the agent's protocol in the kernel.",
          m_installed, 0, NEEDS_NOTHING },
        { "conflicts", "gauge",
          "Desired destinations held by another program's route.",
          m_conflicts, 0, NEEDS_NOTHING },
        { "reconciles_total", "counter",
          "Reconciles run (polls and heals).",
          m_reconciles, 0, NEEDS_NOTHING },
        { "heals_total", "counter",
          "Reconciles, triggered by a kernel event, that changed routes.",
          m_heals, 0, NEEDS_NOTHING },
        { "heal_backoffs_total", "counter",
          "Re-adds postponed: another program kept removing the route.",
          m_heal_backoffs, 0, NEEDS_NOTHING },
        { "metadata_errors_total", "counter",
          "Failed metadata fetches or documents.",
          m_metadata_errors, 0, NEEDS_NOTHING },
        { "last_success_timestamp_seconds", "gauge",
          "Unix time of the last complete reconcile.",
          m_last_success, 0, NEEDS_NOTHING },
        { "fetch_duration_seconds", "gauge",
          "Duration of the last metadata fetch.",
          m_fetch_duration, 6, NEEDS_NOTHING },
        { "poll_cpu_seconds", "gauge",
          "CPU time the last poll spent after its HTTP exchange.",
          m_poll_cpu, 6, NEEDS_NOTHING },
        { "egress_active", "gauge",
          "1 while traffic without a more specific route leaves through the NAT gateway (nat_gateway on).",
          m_egress_active, 0, NEEDS_EGRESS },
        { "api_errors_total", "counter",
          "Failed API rounds, by kind.",
          NULL, 0, NEEDS_API_ERRORS },
        { "api_interval_seconds", "gauge",
          "Time between API rounds, stretched when a fleet shares the token.",
          m_api_interval, 0, NEEDS_PACE },
        { "api_fleet_estimate", "gauge",
          "Agents like this one the token's use suggests (1 alone).",
          m_api_fleet, 1, NEEDS_PACE },
        { "api_token_used", "gauge",
          "Requests of the token in the API's window (ratelimit-limit minus ratelimit-remaining).",
          m_api_used, 0, NEEDS_PACE },
        { "api_token_limit", "gauge",
          "The token's limit in that window (ratelimit-limit).",
          m_api_limit, 0, NEEDS_PACE },
};

const char *metric_name(size_t i) {
        return i < ELEMENTSOF(metrics) ? metrics[i].name : NULL;
}

static void metric_write(FILE *f, const struct metric *m, const struct agent_state *s) {
        fprintf(f, "# HELP " METRIC_PREFIX "%s %s\n# TYPE " METRIC_PREFIX "%s %s\n", m->name, m->help, m->name, m->type);
        if (m->value) {
                fprintf(f, METRIC_PREFIX "%s %.*f\n", m->name, m->decimals, m->value(s));
                return;
        }
        for (size_t k = 0; s->api_errors && k < _API_ERROR_KIND_MAX; k++)
                fprintf(f, METRIC_PREFIX "%s{kind=\"%s\"} %llu\n", m->name, api_error_kind_to_string(k),
                        (unsigned long long) s->api_errors[k]);
}

int metrics_write(const char *path, const struct agent_state *s) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(metrics); i++)
                if ((metrics[i].needs != NEEDS_API_ERRORS || s->api_errors) && (metrics[i].needs != NEEDS_PACE || s->pace) &&
                    (metrics[i].needs != NEEDS_EGRESS || s->egress))
                        metric_write(f, &metrics[i], s);
        if (fclose(f) != 0)
                return -ENOMEM;
        r = mkdir_parent(path);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, size, 0644);
}
