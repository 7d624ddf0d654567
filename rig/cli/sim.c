/* rig sim serve: the simulated bench served over the wire. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "drivers/sim/wire.h"

static const char usage_sim[] =
	"Usage: rig sim serve --bench FILE [--dut FILE] [--port N] [--listen ADDR] [--links DIR]\n"
	"                     [--real-time]\n"
	"\n"
	"Serves the physics of the bench file's simulator group the way hardware does:\n"
	"the sensors and the valve DAC over libiio's network protocol (iiod) on TCP,\n"
	"shaped like the kernel's hx711, ina226 and ads1015 drivers, the pump's command\n"
	"link and an MT-SICS balance on pseudo-terminals (docs/wire-simulator.md).\n"
	"Prints one endpoint per line (\"iio ip:HOST:PORT\", \"pump PATH\", \"balance PATH\"),\n"
	"then \"ready\", and serves until SIGINT, SIGTERM or any signal that would\n"
	"end a process (docs/faults.md, Signals); then exits 0.\n"
	"\n"
	"  -b, --bench FILE     bench file with a simulator group\n"
	"      --dut FILE       the simulated pump says it is this device (its serial and\n"
	"                       firmware) when asked, unless the simulator's pump group\n"
	"                       names its own; with neither it answers IDENT with ERR 95\n"
	"  -p, --port N         TCP port (default 0: any free port, printed)\n"
	"  -l, --listen ADDR    address to bind (default 127.0.0.1: loopback only)\n"
	"      --links DIR      also make DIR/pump and DIR/balance links to the terminals\n"
	"      --real-time      simulated time follows the wall clock; by default it moves\n"
	"                       only when rig writes pumprig-clock/time_ns (lockstep)\n";

static int sim_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bench", required_argument, NULL, 'b' }, { "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' }, { "real-time", no_argument, NULL, 'r' },
		{ "links", required_argument, NULL, 'k' }, { "dut", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct wire_opts wo = { .addr = "127.0.0.1", .announce = stdout, .stop = &stop_signal };
	const char *bench_path = NULL, *dut_path = NULL;
	struct bench *bench = NULL;
	char *end;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "serve") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(usage_sim, stdout);
			return EXIT_PASS;
		}
		fprintf(stderr, "rig sim: expected \"serve\"\n\n%s", usage_sim);
		return EXIT_BAD_INPUT;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "b:p:l:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bench_path = optarg; break;
		case 'l': wo.addr = optarg; break;
		case 'r': wo.real_time = true; break;
		case 'k': wo.links_dir = optarg; break;
		case 'd': dut_path = optarg; break;
		case 'p':
			wo.port = (unsigned)strtoul(optarg, &end, 10);
			if (*end || wo.port > 65535) {
				fprintf(stderr, "rig sim serve: --port must be 0..65535\n");
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h': fputs(usage_sim, stdout); return EXIT_PASS;
		default: bad_option(argv, usage_sim); return EXIT_BAD_INPUT;
		}
	}
	if (!bench_path || optind != argc) {
		fprintf(stderr, "rig sim serve: --bench is required\n\n%s", usage_sim);
		return EXIT_BAD_INPUT;
	}
	if (load_bench(bench_path, &bench) < 0)
		return EXIT_BAD_INPUT;
	if (!bench->has_sim) {
		fprintf(stderr, "%s: no simulator group to serve\n", TERM_SAFE(bench_path));
		bench_free(bench);
		return EXIT_BAD_INPUT;
	}
	if (dut_path) {
		struct diag_list diags = { 0 };
		struct device *dev = NULL;

		if (device_load(dut_path, &dev, &diags) < 0 || diags.n > 0) {
			diag_print(&diags, stderr);
			diag_clear(&diags);
			device_free(dev);
			bench_free(bench);
			return EXIT_BAD_INPUT;
		}
		/* the simulator's own pump group, when it names one, wins */
		if (!bench->sim.pump_serial[0]) {
			snprintf(bench->sim.pump_serial, sizeof(bench->sim.pump_serial), "%s", dev->serial);
			snprintf(bench->sim.pump_firmware, sizeof(bench->sim.pump_firmware), "%s",
				 dev->firmware);
		}
		device_free(dev);
	}
	install_signals();
	wo.bench = bench;
	r = sim_wire_serve(&wo);
	if (r < 0)
		fprintf(stderr, "rig sim serve: cannot serve on %s:%u: %s\n", TERM_SAFE(wo.addr), wo.port,
			strerror(-r));
	bench_free(bench);
	return r < 0 ? EXIT_BAD_INPUT : EXIT_PASS;
}

const struct rig_command cmd_sim = { "sim", usage_sim, sim_main };
