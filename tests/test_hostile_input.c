/* Hostile input, text (issue 1 of 7, "Files and text"): text that is not
 * UTF-8 or holds control characters, in every string of every file kind and
 * in every argument and variable of the environment; byte-order marks and
 * line endings; and what rig prints to a terminal.  Cases are generated from
 * lists (every string literal of every shipped file, every option) and drive
 * the rig binary, each bounded in time (tests/hostile.h).  Special files,
 * keys and "results in": tests/test_hostile_files.c. */
#include "hostile.h"
#include "rig/config/config.h"

TestSuite(hostile_text, .timeout = 600);

/* ------------------------------------------------------ string literals -- */

/* Every file whose string literals are mutated, and its loader. */
enum kind { K_SEQ, K_BENCH, K_DUT };
static const struct { const char *path; enum kind kind; bool shipped; } files[] = {
	{ "sequences/qualification.cfg", K_SEQ, true },
	{ "sequences/dose-accuracy-min.cfg", K_SEQ, true },
	{ "sequences/trumpet.cfg", K_SEQ, true },
	{ "sequences/occlusion.cfg", K_SEQ, true },
	{ "sequences/battery.cfg", K_SEQ, true },
	{ "fixtures/bench/sim.cfg", K_BENCH, true },
	{ "fixtures/bench/wire.cfg", K_BENCH, true },
	{ "fixtures/dut/itp-40.cfg", K_DUT, true },
	/* keys the shipped files do not use: outputs, iio buffers, guards */
	{ "tests/data/config/bench-outputs.cfg", K_BENCH, false },
	{ "tests/data/config/bench-local-buffers.cfg", K_BENCH, false },
	{ "tests/data/config/bench-guards.cfg", K_BENCH, false },
	{ "tests/data/config/device-errors.cfg", K_DUT, false },
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

struct literal {
	int line;
	size_t open;           /* offset of its opening quote */
	char key[48];          /* the key it is the value of */
};

/* Every string literal outside comments, with its line and key (the last
 * `key =` before it on its line: `valid_range = ("-1 g", "5 g")` gives
 * valid_range twice). */
static size_t find_literals(const char *text, struct literal *out, size_t max)
{
	size_t n = 0, line_start = 0;
	int line = 1;

	for (size_t i = 0; text[i]; i++) {
		if (text[i] == '\n') {
			line++;
			line_start = i + 1;
		} else if (text[i] == '#' || (text[i] == '/' && text[i + 1] == '/')) {
			while (text[i + 1] && text[i + 1] != '\n')
				i++;
		} else if (text[i] == '"') {
			struct literal *l = &out[n];
			size_t eq = i, end;

			cr_assert_lt(n, max);
			l->line = line;
			l->open = i;
			snprintf(l->key, sizeof(l->key), "?");
			while (eq > line_start && text[eq - 1] != '=')
				eq--;
			if (eq > line_start) {
				end = eq - 1;
				while (end > line_start && text[end - 1] == ' ')
					end--;
				eq = end;
				while (eq > line_start && (text[eq - 1] == '_' ||
					(text[eq - 1] >= 'a' && text[eq - 1] <= 'z') ||
					(text[eq - 1] >= 'A' && text[eq - 1] <= 'Z') ||
					(text[eq - 1] >= '0' && text[eq - 1] <= '9')))
					eq--;
				snprintf(l->key, sizeof(l->key), "%.*s", (int)(end - eq), text + eq);
			}
			n++;
			for (i++; text[i] && text[i] != '"'; i++)
				if (text[i] == '\\' && text[i + 1])
					i++;
		}
	}
	return n;
}

/* text with ins put just inside the literal opening at offset open. */
static char *mutate(const char *text, size_t open, const char *ins, size_t *ret_len)
{
	size_t len = strlen(text), il = strlen(ins);
	char *m = malloc(len + il + 1);

	memcpy(m, text, open + 1);
	memcpy(m + open + 1, ins, il);
	memcpy(m + open + 1 + il, text + open + 1, len - open);
	*ret_len = len + il;
	return m;
}

static int load(enum kind kind, const char *path, struct diag_list *diags)
{
	struct sequence *seq = NULL;
	struct bench *bench = NULL;
	struct device *dev = NULL;
	int r;

	switch (kind) {
	case K_SEQ: r = seq_load(path, &seq, diags); seq_free(seq); break;
	case K_BENCH: r = bench_load(path, &bench, diags); bench_free(bench); break;
	default: r = device_load(path, &dev, diags); device_free(dev); break;
	}
	return r;
}

/* What each mutation of a string literal must give, at its line.  The raw
 * bytes are refused before parsing, whatever the key, so each literal gets
 * one or two of them in turn; the escapes are checked in the parsed values,
 * so every literal gets every escape. */
static const struct { const char *ins, *says; bool raw; } mutations[] = {
	{ "\xff", "the byte 0xFF (column", true },                       /* raw, not UTF-8 */
	{ "caf\xe9", "the byte 0xE9 (column", true },                     /* Latin-1 */
	{ "\xc3", "the byte 0xC3 (column", true },                        /* a cut-off character */
	{ "\xed\xa0\x80", "the byte 0xED (column", true },                /* a UTF-16 surrogate */
	{ "\xc0\xaf", "the byte 0xC0 (column", true },                    /* an overlong '/' */
	{ "\x1b[2J", "a control character (U+001B, ESC) at column", true },
	{ "\xc2\x9b" "2J", "a control character (U+009B) at column", true },   /* C1 CSI */
	{ "\x7f", "a control character (U+007F, DEL) at column", true },
	{ "\\xff", "holds a byte that is not UTF-8 (0xFF), made by an escape", false },
	{ "\\x1b[2J", "holds a control character (U+001B, ESC), made by an escape", false },
	{ "\\xc2\\x9b", "holds a control character (U+009B), made by an escape", false },
	{ "two\\nlines", "holds a control character (U+000A, LF), a line break", false },
	{ "\\r", "holds a control character (U+000D, CR)", false },
	/* libconfig drops it from the value ("ab\x00cd" read as "abcd") */
	{ "ab\\x00cd", "the escape \\x00 at column", false },
	{ "\\x00", "makes a control character (U+0000, NUL)", false },
};
#define N_MUTATIONS (sizeof(mutations) / sizeof(mutations[0]))

Test(hostile_text, every_string_of_every_file_kind_with_bad_text_is_refused_at_its_line)
{
	char *tmp = th_tmpdir();
	size_t cases = 0, literals = 0;

	for (size_t f = 0; f < N_FILES; f++) {
		char *src = th_src(files[f].path), *text = th_read_file(src);
		struct literal lits[512];
		size_t n = find_literals(text, lits, 512);

		cr_assert_gt(n, 0, "%s has no strings", files[f].path);
		literals += n;
		for (size_t i = 0; i < n; i++) {
			for (size_t m = 0; m < N_MUTATIONS; m++) {
				struct diag_list diags = { 0 };
				char *path, *bad;
				size_t len;

				if (mutations[m].raw && (i + f) % 4 != m % 4)
					continue;
				path = path_in(tmp, "mutated.cfg");

				bad = mutate(text, lits[i].open, mutations[m].ins, &len);
				write_bytes(path, bad, len);
				cr_assert_eq(load(files[f].kind, path, &diags), -EINVAL,
					     "%s:%d ('%s' with %s) was loaded", files[f].path,
					     lits[i].line, lits[i].key, mutations[m].says);
				/* exactly one problem, at the literal's line, saying what */
				cr_assert_eq(diags.n, 1, "%s:%d ('%s'): %zu problems, the first: %d: %s",
					     files[f].path, lits[i].line, lits[i].key, diags.n,
					     diags.n ? diags.items[0].line : 0,
					     diags.n ? diags.items[0].msg : "");
				cr_assert_eq(diags.items[0].line, lits[i].line, "%s:%d ('%s'): at line %d: %s",
					     files[f].path, lits[i].line, lits[i].key, diags.items[0].line,
					     diags.items[0].msg);
				cr_assert(strstr(diags.items[0].msg, mutations[m].says),
					  "%s:%d ('%s'): \"%s\" does not say \"%s\"", files[f].path,
					  lits[i].line, lits[i].key, diags.items[0].msg, mutations[m].says);
				cr_assert(!has_byte(diags.items[0].msg, 0x1b) &&
					  !has_byte(diags.items[0].msg, (unsigned char)0xff));
				diag_clear(&diags);
				free(bad);
				free(path);
				cases++;
			}
		}
		free(text);
		free(src);
	}
	cr_log_info("%zu literals, %zu mutated strings refused at their line", literals, cases);
	free(tmp);
}

/* The rig binary, once per key of each shipped file: rig run refuses the file
 * with the key's line before anything starts, and its message shows the
 * control character without sending it to the terminal. */
Test(hostile_text, rig_run_refuses_a_bad_string_in_any_key_before_anything_starts)
{
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run");
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	char seen[256][64];
	size_t n_seen = 0, runs = 0;

	for (size_t f = 0; f < N_FILES; f++) {
		char *src = th_src(files[f].path), *text = th_read_file(src);
		struct literal lits[512];
		size_t n = files[f].shipped ? find_literals(text, lits, 512) : 0;

		for (size_t i = 0; i < n; i++) {
			char key[64], *path, *bad, *where;
			bool done = false;
			size_t len;

			snprintf(key, sizeof(key), "%d/%s", (int)files[f].kind, lits[i].key);
			for (size_t k = 0; k < n_seen && !done; k++)
				done = strcmp(seen[k], key) == 0;
			if (done)
				continue;
			cr_assert_lt(n_seen, 256);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", key);
			path = path_in(tmp, "mutated.cfg");
			for (int variant = 0; variant < 2; variant++) {
				const char *args[] = { "run", files[f].kind == K_SEQ ? path : seq,
					"--bench", files[f].kind == K_BENCH ? path : bench,
					"--dut", files[f].kind == K_DUT ? path : dut, "-o", out, NULL };
				struct outcome o;

				bad = mutate(text, lits[i].open, variant ? "\\x1b[2J" : "\xe9t\xe9", &len);
				write_bytes(path, bad, len);
				o = rig(tmp, args);
				if (asprintf(&where, "%s:%d: ", path, lits[i].line) < 0)
					abort();
				cr_assert_eq(o.status, 2, "%s '%s' (line %d): exit %d; %s", files[f].path,
					     lits[i].key, lits[i].line, o.status, o.err);
				cr_assert(strstr(o.err, where), "%s '%s': no %s in %s", files[f].path,
					  lits[i].key, where, o.err);
				cr_assert(strstr(o.err, variant ? "U+001B, ESC" : "the byte 0xE9"),
					  "%s '%s': %s", files[f].path, lits[i].key, o.err);
				cr_assert(strstr(o.err, "nothing was run"));
				assert_terminal_clean(o.err, files[f].path);
				cr_assert(!has_byte(o.err, 0xe9), "the byte itself reached the terminal");
				cr_assert(!strstr(o.err, "rig: results in"));
				assert_nothing_started(tmp, lits[i].key);
				outcome_free(&o);
				free(where);
				free(bad);
				runs++;
			}
			free(path);
		}
		free(text);
		free(src);
	}
	cr_assert_gt(n_seen, 40, "only %zu keys", n_seen);
	cr_log_info("%zu keys, %zu refused runs", n_seen, runs);
	free(seq);
	free(bench);
	free(dut);
	free(out);
	free(tmp);
}

/* The issue's own case: a title with a Latin-1 byte.  rig validate said 0,
 * rig run moved the pump and ended with exit 3 and "results in" a file
 * never written. */
Test(hostile_text, a_title_that_is_not_utf8_stops_validate_and_run_at_its_line)
{
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run"), *path = path_in(tmp, "seq.cfg");
	char *src = th_src(SEQ), *text = th_read_file(src), *bench = th_src(BENCH);
	char *dut = th_src(DUT), *bad, *where;
	struct literal lits[64];
	size_t n = find_literals(text, lits, 64), len, t = 0;

	while (t < n && strcmp(lits[t].key, "title") != 0)
		t++;
	cr_assert_lt(t, n);
	bad = mutate(text, lits[t].open, "Caf\xe9 ", &len);
	write_bytes(path, bad, len);
	if (asprintf(&where, "%s:%d: the byte 0xE9 (column 15) is not UTF-8", path, lits[t].line) < 0)
		abort();
	{
		const char *args[] = { "validate", path, "--bench", bench, "--dut", dut, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "validate: exit %d: %s%s", o.status, o.out, o.err);
		cr_assert(strstr(o.err, where), "%s", o.err);
		outcome_free(&o);
	}
	{
		const char *args[] = { "run", path, "--bench", bench, "--dut", dut, "-o", out, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "run: exit %d: %s", o.status, o.err);
		cr_assert(strstr(o.err, where), "%s", o.err);
		cr_assert(!strstr(o.err, "rig: results in"), "%s", o.err);
		cr_assert_str_empty(o.out);
		assert_nothing_started(tmp, "run");
		outcome_free(&o);
	}
	free(where);
	free(bad);
	free(text);
	free(src);
	free(bench);
	free(dut);
	free(path);
	free(out);
	free(tmp);
}

/* title = "ab\x00cd": libconfig drops the escape, so the run recorded
 * "abcd" while its copied input kept "ab\x00cd"; validate said 0. */
Test(hostile_text, a_nul_escape_in_a_title_stops_validate_and_run_at_its_line)
{
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run"), *path = path_in(tmp, "seq.cfg");
	char *src = th_src(SEQ), *text = th_read_file(src), *bench = th_src(BENCH);
	char *dut = th_src(DUT), *bad, *where;
	struct literal lits[64];
	size_t n = find_literals(text, lits, 64), len, t = 0;

	while (t < n && strcmp(lits[t].key, "title") != 0)
		t++;
	cr_assert_lt(t, n);
	bad = mutate(text, lits[t].open, "ab\\x00cd", &len);
	write_bytes(path, bad, len);
	if (asprintf(&where, "%s:%d: the escape \\x00 at column", path, lits[t].line) < 0)
		abort();
	for (int k = 0; k < 2; k++) {
		const char *args[2][9] = {
			{ "validate", path, "--bench", bench, "--dut", dut, NULL },
			{ "run", path, "--bench", bench, "--dut", dut, "-o", out, NULL },
		};
		struct outcome o = rig(tmp, args[k]);

		cr_assert_eq(o.status, 2, "%s: exit %d: %s%s", args[k][0], o.status, o.out, o.err);
		cr_assert(strstr(o.err, where), "%s", o.err);
		cr_assert(strstr(o.err, "(U+0000, NUL)"), "%s", o.err);
		assert_nothing_started(tmp, args[k][0]);
		outcome_free(&o);
	}
	free(where);
	free(bad);
	free(text);
	free(src);
	free(bench);
	free(dut);
	free(path);
	free(out);
	free(tmp);
}

/* ------------------------------------------------------ the command line -- */

/* Every argument a command takes, with text that is not UTF-8 ("@" marks
 * it; $S, $B, $D, $O are the sequence, bench, device and tmp/run; $T is
 * tmp). */
static const char *const argument_cases[][12] = {
	{ "run", "@", "--bench", "$B", "--dut", "$D", "-o", "$O" },
	{ "run", "$S", "--bench", "@", "--dut", "$D", "-o", "$O" },
	{ "run", "$S", "--bench", "$B", "--dut", "@", "-o", "$O" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "@" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "$O", "--operator", "@" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "$O", "--note", "@" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "-o", "$O", "--sign-key", "@" },
	{ "run", "$S", "--bench", "$B", "--dut", "$D", "--output=@" },
	{ "validate", "@", "--bench", "$B", "--dut", "$D" },
	{ "note", "$T", "@" },
	{ "note", "$T", "text", "--operator", "@" },
	{ "note", "@", "text" },
	{ "report", "@" },
	{ "report", "$T", "--sign-key", "@" },
	{ "verify", "@" },
	{ "verify", "$T", "--public-key", "@" },
	{ "resume", "@" },
	{ "safe", "--bench", "$B", "--reason", "@" },
	{ "safe", "--bench", "$B", "--run-dir", "@" },
	{ "probe", "--bench", "@" },
	{ "calibrate", "scale", "--bench", "$B", "--reference", "@" },
	{ "calibrate", "scale", "--bench", "$B", "--reference", "20 g", "--record", "@" },
	{ "keygen", "--out", "@" },
	{ "sim", "serve", "--bench", "$B", "--links", "@" },
};

Test(hostile_text, an_argument_that_is_not_text_is_refused_naming_it_before_anything_starts)
{
	static const char *const values[] = { "caf\xe9", "x\x1b[2Jy", "a\xc2\x9b" "b", "\x7f" };
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run");

	for (size_t c = 0; c < sizeof(argument_cases) / sizeof(argument_cases[0]); c++) {
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			const char *args[16];
			struct outcome o;
			char argno[32];
			size_t at = 0;

			expand(argument_cases[c], values[v], tmp, out, args);
			while (args[at] && !strstr(args[at], values[v]))
				at++;
			o = rig(tmp, args);
			snprintf(argno, sizeof(argno), "rig: argument %zu (", at + 1);
			cr_assert_eq(o.status, 2, "rig %s ... %s: exit %d: %s", args[0], args[at],
				     o.status, o.err);
			cr_assert(strstr(o.err, argno), "rig %s: %s", args[0], o.err);
			cr_assert(strstr(o.err, v == 0 ? "not UTF-8 (0xE9)" : "a control character"),
				  "rig %s: %s", args[0], o.err);
			assert_terminal_clean(o.err, args[0]);
			assert_nothing_started(tmp, args[0]);
			outcome_free(&o);
		}
	}
	free(out);
	free(tmp);
}

/* What the environment gives rig (the operator, the key, the lock
 * directory) is checked as the arguments are. */
Test(hostile_text, environment_text_that_is_not_utf8_is_refused_naming_the_variable)
{
	static const char *const vars[] = { "PUMPRIG_OPERATOR", "PUMPRIG_SIGN_KEY", "PUMPRIG_LOCK_DIR" };
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run");
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);
	const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", out, "-q", NULL };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		char *set, *says;
		struct outcome o;

		if (asprintf(&set, "%s=op\xe9rateur", vars[i]) < 0 ||
		    asprintf(&says, "rig: $%s (\"op\\xe9rateur\") holds a byte that is not UTF-8",
			     vars[i]) < 0)
			abort();
		o = rig_env(tmp, args, (const char *const[]){ set, NULL }, 10);
		cr_assert_eq(o.status, 2, "%s: exit %d: %s", vars[i], o.status, o.err);
		cr_assert(strstr(o.err, says), "%s: %s", vars[i], o.err);
		assert_nothing_started(tmp, vars[i]);
		outcome_free(&o);
		free(set);
		free(says);
	}
	free(seq);
	free(bench);
	free(dut);
	free(out);
	free(tmp);
}

/* A name and a reason are one line of text; a note may have lines. */
Test(hostile_text, operator_names_and_reasons_are_one_line_of_text)
{
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run");
	char *seq = th_src(SEQ), *bench = th_src(BENCH), *dut = th_src(DUT);

	{
		const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", out,
				       "--operator", "Ann\nrig: FAKE LINE", NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "%s", o.err);
		cr_assert(strstr(o.err, "must be one line of UTF-8 text"), "%s", o.err);
		cr_assert(strstr(o.err, "Ann\\x0arig: FAKE LINE"), "%s", o.err);
		cr_assert(!strstr(o.err, "\nrig: FAKE LINE"), "a line was faked: %s", o.err);
		assert_nothing_started(tmp, "--operator");
		outcome_free(&o);
	}
	{
		const char *args[] = { "run", seq, "--bench", bench, "--dut", dut, "-o", out, NULL };
		struct outcome o = rig_env(tmp, args, (const char *const[]){
			"PUMPRIG_OPERATOR=Bob\tBob\n", NULL }, 10);

		cr_assert_eq(o.status, 2, "%s", o.err);
		cr_assert(strstr(o.err, "holds a control character (U+0009, TAB)"), "%s", o.err);
		assert_nothing_started(tmp, "$PUMPRIG_OPERATOR");
		outcome_free(&o);
	}
	{
		const char *args[] = { "safe", "--bench", bench, "--reason", "why\nnot", NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "%s%s", o.out, o.err);
		cr_assert(strstr(o.err, "--reason must be one line of UTF-8 text"), "%s", o.err);
		cr_assert(!strstr(o.out, "the bench is safe"), "the bench was touched: %s", o.out);
		outcome_free(&o);
	}
	free(seq);
	free(bench);
	free(dut);
	free(out);
	free(tmp);
}

/* ------------------------------------------- byte-order marks, line ends -- */

static char *with_bytes(const char *tmp, const char *name, const char *rel, const char *prefix,
			size_t prefix_len, int line_ends)
{
	char *src = th_src(rel), *text = th_read_file(src), *path = path_in(tmp, name);
	size_t len = strlen(text), n = prefix_len;
	char *buf = malloc(prefix_len + 2 * len + 1);

	memcpy(buf, prefix, prefix_len);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n' && line_ends == 'r') {
			buf[n++] = '\r';
		} else if (text[i] == '\n' && line_ends == 'R') {
			buf[n++] = '\r';
			buf[n++] = '\n';
		} else {
			buf[n++] = text[i];
		}
	}
	write_bytes(path, buf, n);
	free(buf);
	free(text);
	free(src);
	return path;
}

Test(hostile_text, byte_order_marks_and_line_endings_are_named_or_accepted)
{
	static const char *const rels[3] = { SEQ, BENCH, DUT };
	/* a UTF-8 BOM (skipped), CR LF (read), a UTF-16 BOM and CR alone (refused) */
	static const struct { const char *prefix; int line_ends; } variants[4] = {
		{ "\xef\xbb\xbf", 0 }, { "", 'R' }, { "\xff\xfe", 0 }, { "", 'r' },
	};
	char *tmp = th_tmpdir(), *out = path_in(tmp, "run");

	for (int k = 0; k < 3; k++) {
		for (int variant = 0; variant < 4; variant++) {
			char *paths[3], *where;
			struct outcome o;

			for (int j = 0; j < 3; j++)
				paths[j] = j != k ? th_src(rels[j]) :
					   with_bytes(tmp, "f.cfg", rels[j], variants[variant].prefix,
						      strlen(variants[variant].prefix),
						      variants[variant].line_ends);
			{
				const char *args[] = { "validate", paths[0], "--bench", paths[1],
						       "--dut", paths[2], NULL };

				o = rig(tmp, args);
			}
			if (asprintf(&where, "%s:1: ", paths[k]) < 0)
				abort();
			if (variant < 2) {
				cr_assert_eq(o.status, 0, "%s variant %d: %s", rels[k], variant, o.err);
			} else {
				cr_assert_eq(o.status, 2, "%s variant %d: %s", rels[k], variant, o.err);
				cr_assert(strstr(o.err, where), "%s: %s", rels[k], o.err);
				cr_assert(strstr(o.err, variant == 2 ?
						 "the file is UTF-16 text (it begins with the byte-order mark FF FE)" :
						 "the lines end with a carriage return alone"),
					  "%s variant %d: %s", rels[k], variant, o.err);
				cr_assert(!strstr(o.err, "syntax error"), "%s", o.err);
			}
			outcome_free(&o);
			free(where);
			for (int j = 0; j < 3; j++)
				free(paths[j]);
		}
	}
	/* a CR LF file's lines are counted right; a CR alone inside an LF file is
	 * named at its line */
	{
		char *bench = th_src(BENCH), *dut = th_src(DUT), *where;
		char *path = th_write_file(tmp, "crlf.cfg", "");
		const char crlf[] = "sequence = {\r\n  id = \"X\";\r\n  version = \"1\";\r\n"
				    "  title = \"t\";\r\n  colour = \"red\";\r\n  steps = ( { step = \"stop\"; } );\r\n};\r\n";
		const char lone[] = "sequence = {\n  id = \"X\";\n  version = \"1\";\r  title = \"t\";\n"
				    "  steps = ( { step = \"stop\"; } );\n};\n";
		const char *args[] = { "validate", path, "--bench", bench, "--dut", dut, NULL };

		write_bytes(path, crlf, sizeof(crlf) - 1);
		{
			struct outcome o = rig(tmp, args);

			if (asprintf(&where, "%s:5: unknown key 'colour'", path) < 0)
				abort();
			cr_assert_eq(o.status, 2, "%s", o.err);
			cr_assert(strstr(o.err, where), "%s", o.err);
			outcome_free(&o);
			free(where);
		}
		write_bytes(path, lone, sizeof(lone) - 1);
		{
			struct outcome o = rig(tmp, args);

			if (asprintf(&where, "%s:3: a carriage return (CR) at column 17 is not followed by LF",
				     path) < 0)
				abort();
			cr_assert_eq(o.status, 2, "%s", o.err);
			cr_assert(strstr(o.err, where), "%s", o.err);
			outcome_free(&o);
			free(where);
		}
		free(path);
		free(bench);
		free(dut);
	}
	free(out);
	free(tmp);
}

/* ------------------------------------------------- what a terminal sees -- */

/* Names in a run directory, a run's recorded reason, a path: each reaches
 * the terminal with its control characters shown, while the files keep the
 * exact text. */
Test(hostile_text, control_characters_in_what_rig_prints_are_shown_not_obeyed)
{
	char *tmp = th_tmpdir(), *bench = th_src(BENCH), *dut = th_src(DUT);
	const char *extra[] = { "--note", "first line\nsecond\tcolumn", NULL };
	char *run = make_run(tmp, "run", extra), *notes = th_slurp(run, "notes.jsonl");

	/* a note may have lines; notes.jsonl keeps them exactly */
	cr_assert(strstr(notes, "\"text\":\"first line\\nsecond\\tcolumn\""), "%s", notes);
	free(notes);
	/* a file named to clear the screen and fake a line */
	{
		char *evil = th_write_file(run, "evil\x1b[2J\nOK: 99 files match", "x");
		const char *args[] = { "verify", run, NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 1, "%s%s", o.out, o.err);
		cr_assert(strstr(o.out, "ADDED    evil\\x1b[2J\\x0aOK: 99 files match\n"), "%s", o.out);
		cr_assert(!strstr(o.out, "\nOK: 99"), "a line was faked: %s", o.out);
		assert_terminal_clean(o.out, "rig verify");
		outcome_free(&o);
		{
			const char *rargs[] = { "report", run, NULL };

			o = rig(tmp, rargs);
			cr_assert_eq(o.status, 4, "%s", o.err);
			cr_assert(strstr(o.err, "ADDED    evil\\x1b[2J\\x0aOK"), "%s", o.err);
			assert_terminal_clean(o.err, "rig report");
			outcome_free(&o);
		}
		unlink(evil);
		free(evil);
	}
	/* a record whose reason would clear the screen: the summary printed
	 * shows it, summary.txt keeps it */
	{
		char *events = path_in(run, "events.jsonl"), *text = th_read_file(events), *last;
		char *summary;
		FILE *f;
		const char *args[] = { "report", run, NULL };
		struct outcome o;

		char *elsewhere = path_in(tmp, "elsewhere.jsonl"), *env_j;

		/* unsealed, as a run that crashed before its seal: this station's
		 * journal would rightly call a seal taken away an attack, so the
		 * report is made with a journal that never saw the run */
		cr_assert_geq(asprintf(&env_j, "PUMPRIG_JOURNAL=%s", elsewhere), 0);
		sh("rm -f '%s/SHA256SUMS' '%s/SHA256SUMS.sig'", run, run);
		text[strlen(text) - 1] = '\0';
		last = strrchr(text, '\n');
		cr_assert(last && strstr(last, "\"run_end\""));
		last[1] = '\0';
		f = fopen(events, "w");
		fputs(text, f);
		fputs("{\"t_ns\":1,\"event\":\"run_end\",\"status\":\"aborted\",\"reason\":"
		      "\"pump said \\u001b[2J\\u009b\\nFAKE: pass\"}\n", f);
		fclose(f);
		o = rig_env(tmp, args, (const char *[]){ env_j, NULL }, 10);
		cr_assert_eq(o.status, 3, "%s%s", o.out, o.err);
		cr_assert(strstr(o.out, "pump said \\x1b[2J\\u009b\\x0aFAKE: pass"), "%s", o.out);
		assert_terminal_clean(o.out, "the summary");
		summary = th_slurp(run, "summary.txt");
		cr_assert(strstr(summary, "pump said \x1b[2J\xc2\x9b\nFAKE: pass"),
			  "summary.txt is not exact: %s", summary);
		free(summary);
		outcome_free(&o);
		free(text);
		free(events);
		free(env_j);
		free(elsewhere);
	}
	/* a path with a line break, quoted by a message */
	{
		char *seq = th_src(SEQ);
		const char *args[] = { "validate", "no\nrig: such.cfg", "--bench", bench, "--dut", dut,
				       NULL };
		struct outcome o = rig(tmp, args);

		cr_assert_eq(o.status, 2, "%s", o.err);
		cr_assert(strstr(o.err, "no\\x0arig: such.cfg: cannot read the file"), "%s", o.err);
		cr_assert(!strstr(o.err, "\nrig: such.cfg"), "a line was faked: %s", o.err);
		outcome_free(&o);
		free(seq);
	}
	free(run);
	free(bench);
	free(dut);
	free(tmp);
}
