/* The report's id, its revisions and its last section: the electronic
 * signatures (rig sign), the manifest the report was generated over, the
 * seal's status and when the report was generated.
 *
 * The id is the run's own (run.json run_id, made once when the run was
 * created), so a copy of the run directory or a regeneration keeps it; each
 * generation of the report is a revision, numbered from 1 and listed with
 * when, by which software and over which seal it was made
 * (report-revisions.jsonl, rewritten whole each time from the one before:
 * a derived file, like the report it describes).
 *
 * A report cannot hold the digest of the manifest that covers it (the
 * manifest is written after it): it prints the seal in place when it was
 * generated, which is the one the latest signature is bound to. */
#include "rig/base/utc.h"
#include "report_signatures.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rig/base/text.h"
#include "rig/base/wholefile.h"
#include "rig/seal/manifest.h"
#include "rig/seal/signoff.h"
#include "report_doc.h"
#include "version.h"

#define REVISIONS_NAME "report-revisions.jsonl"
#define REVISIONS_SHOWN 12

struct report_revision {
	unsigned n;
	char utc[32];
	char software[96];
	char manifest[DIGEST_HEX_LEN + 1];   /* "" when the run was not yet sealed */
};

struct report_signoff {
	char run_id[SIGNOFF_RUN_ID_MAX];
	char generated_utc[32];
	/* the seal in place when the report was generated */
	bool sealed;
	char manifest_hex[DIGEST_HEX_LEN + 1];
	char record_hex[DIGEST_HEX_LEN + 1];   /* the raw files it lists */
	char sealed_utc[32], sealed_by[64], signed_by_key[80], after_the_fact[256];
	/* the audit trail */
	struct signoff *sigs;
	size_t n_sigs;
	size_t trail_bad_line;          /* signatures.jsonl does not read: its line */
	/* this revision and the ones before it (the last REVISIONS_SHOWN) */
	unsigned revision;
	struct report_revision revs[REVISIONS_SHOWN];
	size_t n_revs;
};

static void read_seal(struct report_signoff *s, const char *run_dir)
{
	/* only signatures are checked against the record: a run that has
	 * none (every run as it ends) is not hashed once more here */
	struct manifest m = { 0 };
	char *text = NULL;
	size_t len = 0, line = 0;

	if (manifest_load(run_dir, &m, &text, &len, &line) == 0) {
		s->sealed = true;
		digest_buf_sha256(text, len, s->manifest_hex);
		signoff_record_digest(&m, s->record_hex);
		snprintf(s->sealed_utc, sizeof(s->sealed_utc), "%s", m.sealed_utc);
		snprintf(s->sealed_by, sizeof(s->sealed_by), "%s", m.sealed_by);
		snprintf(s->signed_by_key, sizeof(s->signed_by_key), "%s", m.signed_by_key);
		snprintf(s->after_the_fact, sizeof(s->after_the_fact), "%s", m.after_the_fact);
	} else if (s->n_sigs > 0 && manifest_scan(run_dir, &m) == 0) {
		/* not sealed yet (it is sealed after this report): the raw files
		 * as they are are the record a signature is checked against */
		signoff_record_digest(&m, s->record_hex);
	}
	free(text);
	manifest_free(&m);
}

/* The revisions before this one, then this one, written back whole: the
 * last lines kept for the report, every line kept in the file. */
static int next_revision(struct report_signoff *s, const char *run_dir)
{
	char path[RIG_PATH_MAX + 32], *text = NULL, *p, *out = NULL;
	size_t len = 0, out_len = 0;
	unsigned last = 0;
	struct report_revision cur;
	json_t *o;
	char *line;
	int r;

	snprintf(path, sizeof(path), "%s/%s", run_dir, REVISIONS_NAME);
	r = wholefile_read(path, 4u << 20, true, &text, &len);
	if (r < 0 && r != -ENOENT)
		return r;
	for (p = text; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0)) {
		size_t l = strcspn(p, "\n");
		json_t *j = json_loadb(p, l, 0, NULL);
		json_int_t n = json_integer_value(json_object_get(j, "revision"));
		const char *utc = json_string_value(json_object_get(j, "utc"));
		const char *sw = json_string_value(json_object_get(j, "software"));
		const char *mf = json_string_value(json_object_get(j, "manifest_sha256"));

		/* a line that does not read is no revision; the numbering goes on
		 * from the highest read (a derived file: rig writes it whole) */
		if (j && n > (json_int_t)last && n < 1000000 && utc && sw) {
			struct report_revision *rv;

			if (s->n_revs == REVISIONS_SHOWN - 1) {
				memmove(s->revs, s->revs + 1, (REVISIONS_SHOWN - 2) * sizeof(s->revs[0]));
				s->n_revs--;
			}
			rv = &s->revs[s->n_revs++];
			rv->n = (unsigned)n;
			snprintf(rv->utc, sizeof(rv->utc), "%s", text_check(utc, strlen(utc), 0, NULL) ? utc : "?");
			snprintf(rv->software, sizeof(rv->software), "%s",
				 text_check(sw, strlen(sw), 0, NULL) ? sw : "?");
			snprintf(rv->manifest, sizeof(rv->manifest), "%s", mf && strlen(mf) == DIGEST_HEX_LEN ? mf : "");
			last = (unsigned)n;
			if (out_len + l + 2 < (4u << 20)) {
				char *grown = realloc(out, out_len + l + 2);

				if (!grown) {
					json_decref(j);
					free(out);
					free(text);
					return -ENOMEM;
				}
				out = grown;
				memcpy(out + out_len, p, l);
				out_len += l;
				out[out_len++] = '\n';
			}
		}
		json_decref(j);
	}
	free(text);
	cur = (struct report_revision){ .n = last + 1 };
	snprintf(cur.utc, sizeof(cur.utc), "%s", s->generated_utc);
	snprintf(cur.software, sizeof(cur.software), "pumprig %s", RIG_VERSION);
	snprintf(cur.manifest, sizeof(cur.manifest), "%s", s->manifest_hex);
	s->revs[s->n_revs++] = cur;
	s->revision = cur.n;
	o = json_pack("{s:i, s:s, s:s, s:s*, s:i}", "revision", (int)cur.n, "utc", cur.utc,
		      "software", cur.software, "manifest_sha256", s->sealed ? cur.manifest : NULL,
		      "signatures", (int)s->n_sigs);
	line = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
	json_decref(o);
	if (line) {
		size_t l = strlen(line);
		char *grown = realloc(out, out_len + l + 1);

		if (grown) {
			out = grown;
			memcpy(out + out_len, line, l);
			out_len += l;
			out[out_len++] = '\n';
		}
		r = grown ? wholefile_replace(run_dir, REVISIONS_NAME, out, out_len) : -ENOMEM;
	} else {
		r = -ENOMEM;
	}
	free(line);
	free(out);
	return r;
}

int report_signoff_gather(struct report_data *d, const char *run_id, const char *run_dir)
{
	struct report_signoff *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	rig_utc_text(rig_utc_now(), RIG_UTC_ISO, s->generated_utc, sizeof(s->generated_utc));
	snprintf(s->run_id, sizeof(s->run_id), "%s", run_id);
	r = signoff_load(run_dir, &s->sigs, &s->n_sigs, &s->trail_bad_line);
	if (r < 0 && !s->trail_bad_line)
		s->trail_bad_line = 1;
	read_seal(s, run_dir);
	r = next_revision(s, run_dir);
	if (r < 0) {
		report_signoff_free(s);
		return r;
	}
	/* the run's own id: a copy or a regeneration keeps it; older runs
	 * without one keep the id made from their folder's name */
	if (s->run_id[0])
		snprintf(d->report_id, sizeof(d->report_id), "RPT-%s rev %u", s->run_id, s->revision);
	else
		snprintf(d->report_id + strlen(d->report_id), sizeof(d->report_id) - strlen(d->report_id),
			 " rev %u", s->revision);
	d->signoff = s;
	return 0;
}

void report_signoff_free(struct report_signoff *s)
{
	if (!s)
		return;
	free(s->sigs);
	free(s);
}

void section_signatures(struct report_doc *doc, const struct report_data *d)
{
	const struct report_signoff *s = d->signoff;
	struct doc_block *t;

	doc_text(doc, DB_H1, DS_NORMAL, "8  Signatures and record status");
	if (!s)
		return;
	t = doc_table(doc, false, 2, 0.26, 0.74);
	doc_kv(doc, t, "Report id", "%s", d->report_id);
	doc_kv(doc, t, "Run id", "%s", s->run_id[0] ? s->run_id : "none (a run made before run ids)");
	doc_kv(doc, t, "Generated", "%s UTC, revision %u, pumprig %s", s->generated_utc, s->revision,
	       RIG_VERSION);
	if (s->sealed) {
		doc_kv(doc, t, "Manifest (SHA256SUMS)", "sha256:%s — the seal in place when this "
		       "revision was generated; the report itself is covered by the next seal",
		       s->manifest_hex);
		doc_kv(doc, t, "Seal status", "sealed %s by %s; %s%s%s", s->sealed_utc, s->sealed_by,
		       s->signed_by_key[0] ? "signed by the station's key " : "not signed by a station key",
		       s->signed_by_key, s->after_the_fact[0] ? "; sealed after the fact" : "");
	} else {
		doc_kv(doc, t, "Manifest (SHA256SUMS)", "none yet: the run is sealed after this report "
		       "is written");
		doc_kv(doc, t, "Seal status", "not yet sealed when generated");
	}
	doc_kv(doc, t, "Check", "rig verify RUN_DIR checks the manifest, the station's journal and "
	       "every signature below");
	if (s->trail_bad_line) {
		doc_text(doc, DB_PARA, DS_WARN, "signatures.jsonl line %zu is not a signature: the "
			 "audit trail was altered; no signature is shown (rig verify names it)",
			 s->trail_bad_line);
	} else if (s->n_sigs == 0) {
		doc_text(doc, DB_PARA, DS_NORMAL, "Not signed electronically. Sign with: rig sign "
			 "RUN_DIR --meaning authored|reviewed|approved --signer NAME --key FILE "
			 "(the signer's own key).");
	} else {
		t = doc_table(doc, true, 6, 0.11, 0.2, 0.13, 0.14, 0.14, 0.28);
		doc_add_cell(doc, t, DS_HEAD, "meaning");
		doc_add_cell(doc, t, DS_HEAD, "printed name");
		doc_add_cell(doc, t, DS_HEAD, "date and time (UTC)");
		doc_add_cell(doc, t, DS_HEAD, "signer's key");
		doc_add_cell(doc, t, DS_HEAD, "bound to manifest");
		doc_add_cell(doc, t, DS_HEAD, "status");
		for (size_t i = 0; i < s->n_sigs; i++) {
			const struct signoff *g = &s->sigs[i];
			enum signoff_status st = signoff_status(g, s->run_id, s->record_hex);

			doc_add_cell(doc, t, DS_NORMAL, "%s", signoff_meaning_name(g->meaning));
			doc_add_cell(doc, t, DS_NORMAL, "%s", g->signer);
			/* "2026-12-06 07:49:45": a date and a time, each whole on its line */
			doc_add_cell(doc, t, DS_NORMAL, "%.10s %.8s", g->utc, g->utc + (strlen(g->utc) > 11 ? 11 : strlen(g->utc)));
			doc_add_cell(doc, t, DS_MONO, "%.19s…", g->fingerprint);
			doc_add_cell(doc, t, DS_MONO, "sha256:%.12s…", g->manifest_sha256);
			doc_add_cell(doc, t, st == SIGNOFF_VALID ? DS_NORMAL : DS_WARN, "%s",
				     signoff_status_words(st));
		}
		doc_text(doc, DB_PARA, DS_SMALL, "Each signature is an Ed25519 signature by the "
			 "signer's own key over the run id, its meaning, the printed name, the time, the "
			 "manifest it names and the SHA-256 of the run's raw files (signatures.jsonl, "
			 "the audit trail). Its status is checked against the record this revision was "
			 "generated over; rig verify also checks the manifest it names against the "
			 "station's journal.");
	}
	doc_text(doc, DB_H2, DS_NORMAL, "Revisions of this report");
	t = doc_table(doc, true, 4, 0.1, 0.25, 0.25, 0.4);
	doc_add_cell(doc, t, DS_HEAD, "revision");
	doc_add_cell(doc, t, DS_HEAD, "generated (UTC)");
	doc_add_cell(doc, t, DS_HEAD, "software");
	doc_add_cell(doc, t, DS_HEAD, "over manifest");
	for (size_t i = 0; i < s->n_revs; i++) {
		doc_add_cell(doc, t, DS_NORMAL, "%u", s->revs[i].n);
		doc_add_cell(doc, t, DS_NORMAL, "%s", s->revs[i].utc);
		doc_add_cell(doc, t, DS_NORMAL, "%s", s->revs[i].software);
		doc_add_cell(doc, t, DS_MONO, "%s%.16s%s", s->revs[i].manifest[0] ? "sha256:" : "",
			     s->revs[i].manifest[0] ? s->revs[i].manifest : "not yet sealed",
			     s->revs[i].manifest[0] ? "…" : "");
	}
}
