/* Measured conditions: the bath's temperature and the air's state read by
 * their own instruments, the fluid's density and the air's taken from what
 * they read, and a run outside the declared conditions flagged.  The
 * simulated bench is told a bath or an air that differs from what the bench
 * file states; the analysis must recover the pump's injected error from the
 * record alone, and say where the densities came from.  Expected densities
 * come from the published formulas' own check values or from an independent
 * approximation (OIML R 111-1, annex E), never from rig's arithmetic. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results_read.h"
#include "rig/analysis/gravimetric.h"

#define BENCH37 "fixtures/bench/sim-37c.cfg"
#define SEQ37 "sequences/dose-accuracy-37c.cfg"
#define DUT "fixtures/dut/itp-40.cfg"

/* The run is r.dir/run, its history r.dir/history.sqlite. */
static struct th_run run37(const char *sequence, const char *const *bench_pairs)
{
	struct th_run r = th_run_seq(sequence, BENCH37, bench_pairs, DUT, NULL);

	cr_assert_not_null(r.results, "no results.json: %s", r.err);
	return r;
}

static json_t *gravimetric(const struct th_run *r)
{
	return json_object_get(r->results, "gravimetric");
}

static double gnum(const struct th_run *r, const char *key)
{
	return json_number_value(json_object_get(gravimetric(r), key));
}

static const char *gstr(const struct th_run *r, const char *key)
{
	const char *s = json_string_value(json_object_get(gravimetric(r), key));

	cr_assert_not_null(s, "no gravimetric.%s", key);
	return s;
}

/* How many deviations of that kind name that role (or any, for NULL). */
static size_t deviations(const struct th_run *r, const char *kind, const char *needle)
{
	size_t i, n = 0;
	json_t *d;

	json_array_foreach(json_object_get(r->results, "deviations"), i, d)
		if (strcmp(json_string_value(json_object_get(d, "kind")), kind) == 0 &&
		    (!needle || strstr(json_string_value(json_object_get(d, "text")), needle)))
			n++;
	return n;
}

/* OIML R 111-1 (2004), E.3: an approximation of the CIPM formula good to
 * about 2e-4 relative between 600 and 1100 hPa, 15 and 27 degC, 20 and
 * 80 %: written here apart from rig's CIPM-2007. */
static double oiml_air_density(double t_c, double p_kpa, double rh_pct)
{
	return (0.34848 * p_kpa * 10 - 0.009 * rh_pct * exp(0.061 * t_c)) / (273.15 + t_c);
}

Test(conditions, cipm2007_agrees_with_an_independent_approximation_across_a_lab_s_range)
{
	for (double t = 15; t <= 27; t += 3)
		for (double p = 80; p <= 105; p += 5)
			for (double h = 20; h <= 80; h += 20) {
				double a = air_density_cipm2007_kg_per_m3(t, p, h, 0.0004);
				double b = oiml_air_density(t, p, h);

				cr_assert(fabs(a / b - 1) < 2e-4, "%g degC %g kPa %g %%: CIPM-2007 %.5f, "
					  "OIML %.5f", t, p, h, a, b);
			}
	/* drier, cooler, higher: denser; CO2 adds mass */
	cr_assert(air_density_cipm2007_kg_per_m3(20, 101.325, 20, 0.0004) >
		  air_density_cipm2007_kg_per_m3(20, 101.325, 80, 0.0004));
	cr_assert(air_density_cipm2007_kg_per_m3(20, 101.325, 50, 0.0008) >
		  air_density_cipm2007_kg_per_m3(20, 101.325, 50, 0.0004));
}

/* The shipped 37 degC bench: its bath truly 0.4 K above what the file
 * states; the RTD (0.03 K high) reads it, and the density is water's at
 * the measured temperature, Tanaka's table value at 37.43 degC. */
Test(conditions, the_bath_s_density_comes_from_its_measured_temperature)
{
	struct th_run r = run37(SEQ37, (const char *[]){ "rate_error = \"0 %\"", "rate_error = \"3 %\"",
						      NULL });
	json_t *c;

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(gstr(&r, "density_source"), "measured"), "%s", gstr(&r, "density_source"));
	/* Tanaka et al. 2001: 993.33 at 37 degC, -0.36 kg/m3 per K there */
	cr_assert(fabs(gnum(&r, "density_g_per_ml") * 1000 - (993.33 - 0.36 * 0.43)) < 0.02,
		  "density %.6f g/mL", gnum(&r, "density_g_per_ml"));
	cr_assert(strstr(gstr(&r, "air_density_source"), "CIPM-2007"), "%s",
		  gstr(&r, "air_density_source"));
	/* the simulator's air: 23 degC, 40 %, 98.5 kPa; its sensors read it
	 * -0.3 K, +2 %, +0.05 kPa off, within their stated uncertainties */
	cr_assert(fabs(gnum(&r, "air_density_kg_per_m3") - oiml_air_density(23, 98.5, 40)) <=
		  2 * gnum(&r, "air_density_u_kg_per_m3"), "air %.5f +- %.5f",
		  gnum(&r, "air_density_kg_per_m3"), gnum(&r, "air_density_u_kg_per_m3"));
	c = check_named(r.results, "dose_accuracy");
	cr_assert(fabs(mval(c, "dose_error") - 3.0) <= mU(c, "dose_error"), "measured %+.4f %% +- %.4f",
		  mval(c, "dose_error"), mU(c, "dose_error"));
	cr_assert_eq(deviations(&r, "condition_out_of_range", NULL), 0);
	cr_assert_eq(json_array_size(json_object_get(gravimetric(&r), "conditions")), 4);
	/* each condition's own table, under its whole role name (rig export) */
	{
		char *table, *run, *csv;

		if (asprintf(&table, "%s/tables", r.dir) < 0 || asprintf(&run, "%s/run", r.dir) < 0)
			abort();
		cr_assert_eq(th_rig(r.dir, (const char *[]){ "export", run, "--out", table, NULL }), 0);
		free(run);
		csv = th_slurp(table, "fluid_temperature.csv");
		cr_assert_not_null(csv, "no %s/fluid_temperature.csv", table);
		cr_assert(strncmp(csv, "t_s,temperature_degC", 20) == 0, "%.80s", csv);
		free(csv);
		free(table);
	}
	/* the history keeps each condition as a figure of the bench's health */
	{
		char *db, *out;
		const char *id = json_string_value(json_object_get(r.results, "run_id"));

		if (asprintf(&db, "sqlite:%s/history.sqlite", r.dir) < 0)
			abort();
		cr_assert_eq(th_rig(r.dir, (const char *[]){ "history", "show", id, "--db", db, NULL }),
			     0);
		out = th_slurp(r.dir, "stdout");
		cr_assert(strstr(out, "fluid_temperature") && strstr(out, "air_density") &&
			  strstr(out, "humidity"), "%s", out);
		free(out);
		free(db);
	}
	th_run_free(&r);
}

/* A simulated bench with air sensors and no simulator.air: the sensors
 * read the air the bench's true air density is (20 degC, 50 %, at the
 * pressure that gives it), not a standard atmosphere beside it. */
Test(conditions, the_simulated_air_the_sensors_read_is_the_air_the_balance_is_in)
{
	struct th_run r = run37(SEQ37, (const char *[]){
		"    air = { temperature = \"23 degC\"; humidity = \"40 %\"; pressure = \"98.5 kPa\"; };\n", "",
		"fluid = { temperature = \"37.4 degC\"; };",
		"fluid = { temperature = \"37.4 degC\"; air_density = \"1.10 kg/m3\"; };", NULL });

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(gstr(&r, "air_density_source"), "CIPM-2007"), "%s",
		  gstr(&r, "air_density_source"));
	cr_assert(fabs(gnum(&r, "air_density_kg_per_m3") - 1.10) <=
		  2 * gnum(&r, "air_density_u_kg_per_m3"), "air %.5f +- %.5f, the truth 1.10",
		  gnum(&r, "air_density_kg_per_m3"), 2 * gnum(&r, "air_density_u_kg_per_m3"));
	th_run_free(&r);
}

/* The bath's heater failed: the water is truly at 30 degC while the bench
 * states 37.  With the RTD the density is water's at 30 degC, the pump's
 * 2 % is recovered, and the run is flagged outside its declared bath range
 * and the sequence's temperature.  Without the RTD (the stated 37 degC,
 * 0.23 % lighter water) the same pump is measured about 0.23 points slow,
 * outside the U the stated temperature carries (the next test). */
Test(conditions, a_bath_off_its_temperature_is_corrected_and_flagged)
{
	const char *const warm[] = { "rate_error = \"0 %\"", "rate_error = \"2 %\"",
				     "fluid = { temperature = \"37.4 degC\"; };",
				     "fluid = { temperature = \"30 degC\"; };", NULL };
	struct th_run r = run37(SEQ37, warm);
	json_t *c;

	cr_assert_eq(r.status, 0, "%s", r.err);
	/* Tanaka et al. 2001 at 30 degC: 995.6502 kg/m3 (0.03 K high: -0.009) */
	cr_assert(fabs(gnum(&r, "density_g_per_ml") * 1000 - 995.641) < 0.02, "density %.6f",
		  gnum(&r, "density_g_per_ml"));
	c = check_named(r.results, "dose_accuracy");
	cr_assert(fabs(mval(c, "dose_error") - 2.0) <= mU(c, "dose_error"), "measured %+.4f %% +- %.4f",
		  mval(c, "dose_error"), mU(c, "dose_error"));
	cr_assert_geq(deviations(&r, "condition_out_of_range", "declared"), 1);
	cr_assert_geq(deviations(&r, "condition_out_of_range", "sequence is made at 37"), 1);
	cr_assert(strstr(json_string_value(json_object_get(r.results, "verdict_text")), "deviation"),
		  "%s", json_string_value(json_object_get(r.results, "verdict_text")));
	th_run_free(&r);
}

/* The same failed heater on a bench without the RTD: the stated 37 degC
 * gives the wrong density, and the pump's 2 % comes out about 0.24 points
 * high, beyond the U the stated temperature's 0.5 K allows. */
Test(conditions, without_the_rtd_a_wrong_bath_biases_the_dose)
{
	const char *const pairs[] = { "rate_error = \"0 %\"", "rate_error = \"2 %\"",
		"fluid = { temperature = \"37.4 degC\"; };", "fluid = { temperature = \"30 degC\"; };",
		/* the bench without its fluid_temperature instrument */
		"    fluid_temperature = {\n      backend = \"sim\"; model = \"Pt100 on a MAX31865 "
		"(model)\"; serial = \"SIM-RTD\"; period = \"10 s\";\n      calibration = { "
		"uncertainty = \"0.05 K\"; date = \"2026-11-16\"; due = \"2028-11-16\"; };\n    };\n",
		"", NULL };
	struct th_run r = run37("sequences/dose-accuracy.cfg", pairs);
	json_t *c;
	double err, u;

	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(gstr(&r, "density_source"), "inputs/bench.cfg"), "%s",
		  gstr(&r, "density_source"));
	c = check_named(r.results, "dose_accuracy");
	err = mval(c, "dose_error");
	u = mU(c, "dose_error");
	/* the heavier 30 degC water read as 37 degC water: every gram taken
	 * for 1/993.33 L where it is 1/995.65, (1.02 * 995.65 / 993.33 - 1)
	 * against 2 %: about 0.24 points high */
	cr_assert(fabs(err - 2.0) > u && err > 2.15 && err < 2.35, "measured %+.4f %% +- %.4f", err, u);
	th_run_free(&r);
}

/* A bench's conditions block and a sequence's temperature, wrong: each is
 * file:line, exit 2, and nothing is run. */
Test(conditions, bad_conditions_are_refused_with_file_and_line)
{
	static const struct {
		const char *from, *to, *says;
	} cases[] = {
		{ "humidity = (\"20 %\", \"80 %\");", "humidity = (\"80 %\", \"20 %\");",
		  "lower limit first" },
		{ "humidity = (\"20 %\", \"80 %\");", "humidity = (\"20 %\", \"80 kPa\");",
		  "not a percentage" },
		{ "humidity = (\"20 %\", \"80 %\");", "humidty = (\"20 %\", \"80 %\");", "humidty" },
		{ "air_pressure = (\"80 kPa\", \"106 kPa\");", "air_pressure = \"80 kPa\";",
		  "list of two" },
		{ "uncertainty = \"0.05 K\"; date", "uncertainty = \"0.05 mg\"; date",
		  "temperature difference" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = th_tmpdir(), *dut = th_src(DUT), *seq = th_src(SEQ37), *err;
		char *bench = th_src_edited(dir, BENCH37, "bench.cfg",
					    (const char *[]){ cases[i].from, cases[i].to, NULL });

		cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut",
							   dut, NULL }), 2, "case %zu", i);
		err = th_slurp(dir, "stderr");
		cr_assert(strstr(err, "bench.cfg:") && strstr(err, cases[i].says), "case %zu: %s", i,
			  err);
		free(err);
		free(bench);
		free(seq);
		free(dut);
		free(dir);
	}
}

/* A sequence made at 37 degC on the 20 degC bench: validate names the
 * sequence's line and the bench's statement, and refuses. */
Test(conditions, a_body_temperature_sequence_is_refused_on_a_room_temperature_bench)
{
	char *dir = th_tmpdir(), *dut = th_src(DUT), *seq = th_src(SEQ37);
	char *bench = th_src("fixtures/bench/sim.cfg"), *err;

	cr_assert_eq(th_rig(dir, (const char *[]){ "validate", seq, "--bench", bench, "--dut", dut,
						   NULL }), 2);
	err = th_slurp(dir, "stderr");
	cr_assert(strstr(err, "dose-accuracy-37c.cfg:") && strstr(err, "37 degC") &&
		  strstr(err, "20 degC"), "%s", err);
	free(err);
	free(bench);
	free(seq);
	free(dut);
	free(dir);
}
