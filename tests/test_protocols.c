/* The serial protocols, pure: the pump link (drivers/pumplink) and the
 * MT-SICS balance subset (drivers/mtsics).  Expected checksums were computed
 * apart from the code under test, by XOR of the bytes in Python, e.g. "1 STOP"
 * 0x31^0x20^0x53^0x54^0x4F^0x50 = 0x09. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/mtsics/protocol.h"
#include "drivers/pumplink/protocol.h"

Test(pumplink, commands_are_framed_with_their_checksum)
{
	struct pumplink_cmd stop = { .seq = 1, .kind = PL_STOP };
	struct pumplink_cmd rate = { .seq = 7, .kind = PL_RATE, .rate_ml_per_h = 0.25 };
	char buf[PUMPLINK_LINE_MAX];

	cr_assert_eq(pumplink_checksum("1 STOP", 6), 0x09);
	cr_assert_eq(pumplink_format_cmd(&stop, buf, sizeof(buf)), 11);
	cr_assert_str_eq(buf, "1 STOP*09\r\n");
	pumplink_format_cmd(&rate, buf, sizeof(buf));
	cr_assert_str_eq(buf, "7 RATE 0.250000*2C\r\n");
	cr_assert_eq(pumplink_format_cmd(&rate, buf, 10), -ENOSPC);
}

Test(pumplink, commands_and_replies_round_trip)
{
	struct pumplink_cmd in = { .seq = 42, .kind = PL_BOLUS, .volume_ml = 0.1,
				   .rate_ml_per_h = 1 }, out;
	struct pumplink_reply st = { .seq = 43, .kind = PL_STATUS_REPLY, .running = true,
				     .rate_ml_per_h = 0.25, .alarms = 3, .delivered_ml = 1.5,
				     .battery_v = 3.1, .reservoir_ml = 38.5 }, got;
	struct pumplink_reply err = { .seq = 44, .kind = PL_ERR, .err = EBUSY };
	char buf[PUMPLINK_LINE_MAX];

	pumplink_format_cmd(&in, buf, sizeof(buf));
	cr_assert_eq(pumplink_parse_cmd(buf, strlen(buf), &out), 0);
	cr_assert_eq(out.seq, 42);
	cr_assert_eq(out.kind, PL_BOLUS);
	cr_assert_float_eq(out.volume_ml, 0.1, 1e-9);
	cr_assert_float_eq(out.rate_ml_per_h, 1, 1e-9);
	cr_assert(!out.patient);
	/* a patient's demand says so; any other fifth word is refused */
	in.patient = true;
	pumplink_format_cmd(&in, buf, sizeof(buf));
	cr_assert(strstr(buf, "BOLUS 0.100000 1.000000 PATIENT*"), "%s", buf);
	cr_assert_eq(pumplink_parse_cmd(buf, strlen(buf), &out), 0);
	cr_assert(out.patient && out.kind == PL_BOLUS);
	{
		const char *body = "45 BOLUS 0.1 1 NURSE";
		char line[PUMPLINK_LINE_MAX];

		snprintf(line, sizeof(line), "%s*%02X\r\n", body,
			 pumplink_checksum(body, strlen(body)));
		cr_assert_eq(pumplink_parse_cmd(line, strlen(line), &out), -EINVAL, "%s", line);
	}
	pumplink_format_reply(&st, buf, sizeof(buf));
	cr_assert_eq(pumplink_parse_reply(buf, strlen(buf), &got), 0);
	cr_assert(got.running && !got.bolus_active);
	cr_assert_eq(got.alarms, 3);
	cr_assert_float_eq(got.delivered_ml, 1.5, 1e-9);
	cr_assert_float_eq(got.battery_v, 3.1, 1e-9);
	pumplink_format_reply(&err, buf, sizeof(buf));
	cr_assert_eq(pumplink_parse_reply(buf, strlen(buf), &got), 0);
	cr_assert_eq(got.kind, PL_ERR);
	cr_assert_eq(got.err, EBUSY);
}

/* A pump says who it is in two words; rig's wire simulator adds SIMULATOR,
 * which rig records so that no report of a run on it reads as real. */
static int ident_line(const char *body, struct pumplink_reply *ret)
{
	char line[PUMPLINK_LINE_MAX];

	snprintf(line, sizeof(line), "%s*%02X\r\n", body, pumplink_checksum(body, strlen(body)));
	return pumplink_parse_reply(line, strlen(line), ret);
}

Test(pumplink, the_simulator_says_so_in_its_ident_and_a_pump_does_not)
{
	struct pumplink_reply sim = { .seq = 9, .kind = PL_IDENT_REPLY, .serial = "SN-0001",
				      .firmware = "1.0.0", .simulator = true }, got;
	char buf[PUMPLINK_LINE_MAX];

	cr_assert_gt(pumplink_format_reply(&sim, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "9 IDENT SN-0001 1.0.0 SIMULATOR*"), "%s", buf);
	cr_assert_eq(pumplink_parse_reply(buf, strlen(buf), &got), 0);
	cr_assert(got.kind == PL_IDENT_REPLY && got.simulator);
	cr_assert_str_eq(got.serial, "SN-0001");
	cr_assert_str_eq(got.firmware, "1.0.0");
	cr_assert_eq(ident_line("10 IDENT SN-0001 1.0.0", &got), 0);
	cr_assert(!got.simulator);
	sim.simulator = false;
	pumplink_format_reply(&sim, buf, sizeof(buf));
	cr_assert_null(strstr(buf, "SIMULATOR"), "%s", buf);
	/* no other third word, and nothing after it */
	cr_assert_eq(ident_line("11 IDENT SN-0001 1.0.0 REAL", &got), -EINVAL);
	cr_assert_eq(ident_line("12 IDENT SN-0001 1.0.0 SIMULATOR X", &got), -EINVAL);
}

Test(pumplink, malformed_lines_are_refused_by_class)
{
	struct pumplink_cmd c;
	struct pumplink_reply r;

	cr_assert_eq(pumplink_parse_cmd("1 STOP*08\r\n", 11, &c), -EBADMSG);   /* wrong sum */
	cr_assert_eq(pumplink_parse_cmd("1 STOP", 6, &c), -EBADMSG);           /* none */
	cr_assert_eq(pumplink_parse_cmd("7 RATE 0.250000*2c", 18, &c), -EBADMSG); /* lower-case hex */
	/* "1 STOp" sums to 0x29 (p and P differ by 0x20): a sound line, an unknown command */
	cr_assert_eq(pumplink_parse_cmd("1 STOp*29", 9, &c), -ENOMSG);
	cr_assert_eq(pumplink_parse_cmd("1 DANCE*5C", 10, &c), -ENOMSG);
	/* a rate without its number, a rate that is not a number, trailing text */
	cr_assert_eq(pumplink_parse_cmd("1 RATE*13", 9, &c), -EINVAL);
	cr_assert_eq(pumplink_parse_cmd("1 RATE nan*52", 13, &c), -EINVAL);
	cr_assert_eq(pumplink_parse_cmd("1 STOP X*71", 11, &c), -EINVAL);
	cr_assert_eq(pumplink_parse_reply("1 OK*08", 7, &r), -EBADMSG);
	cr_assert_eq(pumplink_parse_reply("1 OK*15", 7, &r), 0);
}

Test(pumplink, lines_split_across_reads_are_assembled_and_overlong_ones_refused)
{
	struct pumplink_assembler a = { 0 };
	const char *line = NULL, *in = "1 OK*15\r", *rest = "\n2 OK";
	int r = 0;

	for (const char *p = in; *p; p++)
		cr_assert_eq(pumplink_assembler_push(&a, *p, &line), 0);
	cr_assert_eq(pumplink_assembler_push(&a, rest[0], &line), 1);
	cr_assert_str_eq(line, "1 OK*15");
	for (int i = 0; i < 500; i++)
		r = pumplink_assembler_push(&a, 'x', &line);
	cr_assert_eq(r, 0);
	cr_assert_eq(pumplink_assembler_push(&a, '\n', &line), -EMSGSIZE);
	cr_assert_eq(pumplink_assembler_push(&a, 'y', &line), 0);
	cr_assert_eq(pumplink_assembler_push(&a, '\n', &line), 1);
	cr_assert_str_eq(line, "y");
}

Test(mtsics, responses_parse_with_their_status_and_unit)
{
	struct mtsics_response r;

	cr_assert_eq(mtsics_parse_response("S S      12.34567 g", MT_SI, &r), 0);
	cr_assert_eq(r.status, MT_STABLE);
	cr_assert_float_eq(r.value_g, 12.34567, 1e-12);
	cr_assert_eq(mtsics_parse_response("S D    1234.5 mg", MT_SI, &r), 0);
	cr_assert_eq(r.status, MT_DYNAMIC);
	cr_assert_float_eq(r.value_g, 1.2345, 1e-12);
	cr_assert_eq(mtsics_parse_response("T S   20.00010 g", MT_T, &r), 0);
	cr_assert_float_eq(r.value_g, 20.0001, 1e-12);
	cr_assert_eq(mtsics_parse_response("Z A", MT_Z, &r), 0);
	cr_assert_eq(r.status, MT_DONE);
	cr_assert_eq(mtsics_parse_response("S I", MT_S, &r), 0);
	cr_assert_eq(r.status, MT_BUSY);
	cr_assert_eq(mtsics_parse_response("S +", MT_SI, &r), 0);
	cr_assert_eq(r.status, MT_OVERLOAD);
	cr_assert_eq(mtsics_parse_response("ES", MT_SI, &r), 0);
	cr_assert_eq(r.status, MT_ERR_SYNTAX);
}

Test(mtsics, malformed_responses_are_refused)
{
	struct mtsics_response r;

	cr_assert_eq(mtsics_parse_response("S S 12.3 lb", MT_SI, &r), -EINVAL);   /* unit */
	cr_assert_eq(mtsics_parse_response("S S abc g", MT_SI, &r), -EINVAL);
	cr_assert_eq(mtsics_parse_response("S S", MT_SI, &r), -EINVAL);           /* no value */
	cr_assert_eq(mtsics_parse_response("T S 1 g", MT_SI, &r), -EINVAL);       /* wrong command */
	cr_assert_eq(mtsics_parse_response("S D 1 g", MT_S, &r), -EINVAL);        /* S never dynamic */
	cr_assert_eq(mtsics_parse_response("S S nan g", MT_SI, &r), -EINVAL);
	cr_assert_eq(mtsics_parse_response("", MT_SI, &r), -EINVAL);
}

Test(mtsics, the_simulator_side_round_trips)
{
	struct mtsics_response out = { .cmd = MT_SI, .status = MT_DYNAMIC, .has_value = true,
				       .value_g = 1.2345678 }, in;
	enum mtsics_cmd cmd;
	char buf[MTSICS_LINE_MAX];
	int n;

	cr_assert_eq(mtsics_parse_cmd("SI", &cmd), 0);
	cr_assert_eq(cmd, MT_SI);
	cr_assert_eq(mtsics_parse_cmd("XYZ", &cmd), -ENOMSG);
	n = mtsics_format_response(&out, buf, sizeof(buf));
	cr_assert_gt(n, 2);
	cr_assert_eq(strcmp(buf + n - 2, "\r\n"), 0);
	buf[n - 2] = '\0';
	cr_assert_eq(mtsics_parse_response(buf, MT_SI, &in), 0);
	cr_assert_eq(in.status, MT_DYNAMIC);
	cr_assert_float_eq(in.value_g, 1.2345678, 1e-9);
	mtsics_format_cmd(MT_T, buf, sizeof(buf));
	cr_assert_str_eq(buf, "T\r\n");
}
