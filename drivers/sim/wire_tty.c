/* The wire-level simulator's pseudo-terminals: the pump's command link
 * (pumplink protocol) and a laboratory balance speaking MT-SICS, with their
 * faults (docs/wire-simulator.md). */
#define _GNU_SOURCE
#include "wire_internal.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

int wire_open_pty(int *ret_master, int *ret_keep, char *path, size_t size)
{
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), k;

	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, path, size) != 0)
		goto fail;
	k = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (k < 0 || tcgetattr(k, &tio) != 0)
		goto fail;
	cfmakeraw(&tio);
	tcsetattr(k, TCSANOW, &tio);
	/* never block the one loop that serves every client */
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	*ret_master = m;
	*ret_keep = k;
	return 0;
fail:
	if (m >= 0)
		close(m);
	return -errno;
}

static void pty_write(int fd, const char *buf, int len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, (size_t)len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (int)w;
	}
}

/* One command line from the pump link.  A pump that does not answer (an
 * injected no_answer fault) sends nothing back. */
static void pump_line(struct wire *w, const char *line)
{
	struct pumplink_cmd cmd;
	struct pumplink_reply rep = { 0 };
	struct pump_status st;
	bool query;
	rig_ns t = wire_now(w);
	char out[PUMPLINK_LINE_MAX];
	int r, n;

	r = pumplink_parse_cmd(line, strlen(line), &cmd);
	if (r == -EBADMSG || r == -EINVAL || r == -ENOMSG) {
		/* a line this pump cannot read: no sequence number to answer to */
		return;
	}
	/* STATUS and IDENT ask; the others command (and are answered once) */
	query = cmd.kind == PL_STATUS || cmd.kind == PL_IDENT;
	if (!query && w->pump_seen && cmd.seq == w->pump_last_seq) {
		/* the host's retry of a command already carried out: answered
		 * again (if the pump answers at all now), not carried out twice */
		if (sim_pump_status(w->model, t, &st) < 0)
			return;
		n = pumplink_format_reply(&w->pump_last_reply, out, sizeof(out));
		if (n > 0)
			pty_write(w->pump_fd, out, n);
		return;
	}
	rep.seq = cmd.seq;
	switch (cmd.kind) {
	case PL_RATE: r = cmd.rate_ml_per_h > 0 ? sim_pump_set_rate(w->model, t, cmd.rate_ml_per_h)
						 : sim_pump_stop(w->model, t); break;
	case PL_BOLUS: r = sim_pump_bolus(w->model, t, cmd.volume_ml, cmd.rate_ml_per_h,
					  cmd.patient ? BOLUS_PATIENT : BOLUS_CLINICIAN); break;
	case PL_STOP: r = sim_pump_stop(w->model, t); break;
	case PL_REFILL: r = sim_pump_refill(w->model, t, cmd.volume_ml); break;
	case PL_IDENT: {
		struct pump_identity id = { 0 };

		r = sim_pump_identity(w->model, t, &id);
		rep.kind = PL_IDENT_REPLY;
		/* said on the link, so that rig records that it ran on a
		 * simulator whatever the bench file says (docs/pump-link.md) */
		rep.simulator = true;
		/* an identity the link cannot carry is one the pump cannot say */
		if (r == 0 && (strlen(id.serial) > PUMPLINK_IDENT_MAX ||
			       strlen(id.firmware) > PUMPLINK_IDENT_MAX))
			r = -ENOTSUP;
		if (r == 0) {
			memcpy(rep.serial, id.serial, strlen(id.serial) + 1);
			memcpy(rep.firmware, id.firmware, strlen(id.firmware) + 1);
		}
		if (r == -ENOTSUP)
			r = -EOPNOTSUPP;   /* a pump that cannot say: ERR 95 */
		break;
	}
	default:
		r = sim_pump_status(w->model, t, &st);
		if (r == 0)
			rep = (struct pumplink_reply){
				.seq = cmd.seq, .kind = PL_STATUS_REPLY, .running = st.running,
				.bolus_active = st.bolus_active, .rate_ml_per_h = st.rate_ml_per_h,
				.alarms = st.alarms, .delivered_ml = st.delivered_ml,
				.battery_v = st.battery_v, .reservoir_ml = st.reservoir_ml,
			};
		break;
	}
	if (r == -ETIMEDOUT || r == -ENODEV)
		return;   /* not answering (nothing carried out), or gone */
	if (r < 0 && r != -ECOMM) {
		rep.kind = PL_ERR;
		rep.err = -r;
	} else if (!query) {
		rep.kind = PL_OK;
	}
	if (!query) {
		w->pump_seen = true;
		w->pump_last_seq = cmd.seq;
		w->pump_last_reply = rep;
	}
	if (r == -ECOMM)
		return;   /* carried out; the answer is lost on the way */
	n = pumplink_format_reply(&rep, out, sizeof(out));
	if (n > 0)
		pty_write(w->pump_fd, out, n);
}

/* How long the simulated balance waits for stability before it answers
 * "S I", as a real one does after its own stability timeout. */
#define BAL_STABLE_TIMEOUT_NS (5 * RIG_NS_PER_S)

static void balance_send(struct wire *w, const struct mtsics_response *rep)
{
	char out[MTSICS_LINE_MAX];
	int n = mtsics_format_response(rep, out, sizeof(out));

	if (n > 0)
		pty_write(w->bal_fd, out, n);
}

/* The balance's weight now: 0, 1 while it is settling, or -errno. */
static int balance_weigh(struct wire *w, double *ret_g)
{
	struct cached *c = &w->cache[ROLE_SCALE];
	int r = wire_role_reading(w, ROLE_SCALE, QUANT_MASS_G, wire_now(w), ret_g);

	if (r < 0)
		return r;
	return c->n > 0 && (c->rd[0].flags & SAMPLE_UNSTABLE) ? 1 : 0;
}

/* S answers only once the balance has settled.  In real time it waits (the
 * loop calls balance_pending); in lockstep no simulated time passes while
 * rig waits for the answer (as for a READBUF), so the balance's stability
 * timeout passes at once: "S I", and rig asks again once it has moved time. */
static void balance_stable(struct wire *w, bool waited)
{
	struct mtsics_response rep = { .cmd = MT_S };
	double mass;
	int r = balance_weigh(w, &mass);

	if (r == -EIO || r == -ENODEV) {
		w->bal_s_pending = false;
		return;   /* a balance that does not answer */
	}
	if (r == 1 && w->opts->real_time &&
	    (!waited || wire_now(w) - w->bal_s_since < BAL_STABLE_TIMEOUT_NS)) {
		if (!waited) {
			w->bal_s_pending = true;
			w->bal_s_since = wire_now(w);
		}
		return;
	}
	w->bal_s_pending = false;
	if (r < 0) {
		rep.status = MT_ERR_LOGICAL;
	} else if (r == 1) {
		rep.status = MT_BUSY;
	} else {
		rep.status = MT_STABLE;
		rep.has_value = true;
		rep.value_g = mass;
	}
	balance_send(w, &rep);
}

void wire_balance_pending(struct wire *w)
{
	if (w->bal_s_pending)
		balance_stable(w, true);
}

static void balance_line(struct wire *w, const char *line)
{
	struct mtsics_response rep = { 0 };
	enum mtsics_cmd cmd;
	double mass = 0;
	int r;

	/* a host that sends another command has given up on a waiting S */
	w->bal_s_pending = false;
	if (mtsics_parse_cmd(line, &cmd) < 0) {
		pty_write(w->bal_fd, "ES\r\n", 4);
		return;
	}
	rep.cmd = cmd;
	if (cmd == MT_S) {
		balance_stable(w, false);
		return;
	}
	r = balance_weigh(w, &mass);
	if (r == -EIO || r == -ENODEV)
		return;   /* a balance that does not answer */
	if (cmd == MT_T || cmd == MT_Z) {
		/* zero and tare alike set the displayed weight to 0 (a zero
		 * also clears the tare memory, which the model does not keep
		 * apart); the balance then settles anew */
		r = sim_scale_tare(w->model, wire_now(w));
		w->cache[ROLE_SCALE].valid = false;   /* the next reading is after it */
		rep.status = r < 0 ? MT_ERR_LOGICAL : cmd == MT_T ? MT_STABLE : MT_DONE;
		rep.has_value = cmd == MT_T && r == 0;
		rep.value_g = mass;
	} else if (r < 0) {
		rep.status = MT_ERR_LOGICAL;
	} else {
		rep.status = r == 1 ? MT_DYNAMIC : MT_STABLE;   /* SI: at once, settled or not */
		rep.has_value = true;
		rep.value_g = mass;
	}
	balance_send(w, &rep);
}

void wire_pty_readable(struct wire *w, int fd)
{
	char buf[512];
	ssize_t got = read(fd, buf, sizeof(buf));

	for (ssize_t i = 0; i < got; i++) {
		if (fd == w->pump_fd) {
			const char *line;

			if (pumplink_assembler_push(&w->pump_in, buf[i], &line) == 1)
				pump_line(w, line);
		} else if (buf[i] == '\n') {
			if (w->bal_n > 0 && w->bal_line[w->bal_n - 1] == '\r')
				w->bal_n--;
			w->bal_line[w->bal_n] = '\0';
			w->bal_n = 0;
			balance_line(w, w->bal_line);
		} else if (w->bal_n + 1 < sizeof(w->bal_line)) {
			w->bal_line[w->bal_n++] = buf[i];
		}
	}
}

/* Points DIR/name at path (--links), replacing what was there. */
static void link_update(const struct wire *w, const char *name, const char *path)
{
	char link[512];

	if (!w->opts->links_dir)
		return;
	snprintf(link, sizeof(link), "%s/%s", w->opts->links_dir, name);
	unlink(link);
	if (path && symlink(path, link) != 0)
		fprintf(stderr, "rig sim serve: %s: %s\n", link, strerror(errno));
}

/* An unplug fault takes the pump's pseudo-terminal away, as unplugging a
 * USB serial adapter takes its device node: the host's open descriptor
 * reads EIO and the link name goes.  When the fault ends a new terminal
 * appears (under a new /dev/pts name) and the link names it again. */
void wire_pump_link_update(struct wire *w)
{
	bool unplugged = sim_pump_link_unplugged(w->model, wire_now(w));
	char path[64];

	if (unplugged && w->pump_fd >= 0) {
		close(w->pump_fd);
		close(w->pump_keep);
		w->pump_fd = w->pump_keep = -1;
		w->pump_in = (struct pumplink_assembler){ 0 };
		link_update(w, "pump", NULL);
	} else if (!unplugged && w->pump_fd < 0) {
		if (wire_open_pty(&w->pump_fd, &w->pump_keep, path, sizeof(path)) == 0)
			link_update(w, "pump", path);
	}
}
