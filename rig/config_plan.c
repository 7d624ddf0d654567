/* Cross-file validation of a sequence against a bench and a device: see
 * plan_validate() in config.h.  Problems are reported at the sequence's lines
 * because that is where a user changes the plan. */
#include "config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void plan_error(struct diag_list *diags, const struct sequence *seq, const struct step *st,
		       int *errors, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(diags, seq->path, st ? st->line : 0, "%s", msg);
	(*errors)++;
}

/* The instrument roles a step cannot run without. */
static unsigned step_roles(const struct step *st)
{
	switch (st->kind) {
	case STEP_PRIME:
	case STEP_SET_RATE:
	case STEP_BOLUS:
	case STEP_STOP: return 1u << ROLE_PUMP;
	case STEP_TARE: return 1u << ROLE_SCALE;
	case STEP_OCCLUDE:
	case STEP_RELEASE: return 1u << ROLE_VALVE;
	case STEP_CHECK: return st->check == CHECK_DOSE_ACCURACY ? 1u << ROLE_SCALE : 0;
	default: return 0;
	}
}

struct window_state {
	const char *name;
	const struct step *begin, *end;
};

int plan_validate(const struct sequence *seq, const struct bench *bench,
		  const struct device *dev, struct diag_list *diags)
{
	struct window_state *win = calloc(seq->n_steps + 1, sizeof(*win));
	size_t n_win = 0;
	int errors = 0;

	if (!win)
		return -ENOMEM;
	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		unsigned need = step_roles(st);
		double rate_max = dev->rate_max_ml_per_h > dev->bolus_rate_ml_per_h ?
				  dev->rate_max_ml_per_h : dev->bolus_rate_ml_per_h;

		for (int r = 0; r < ROLE__COUNT; r++)
			if ((need & (1u << r)) && !bench->instrument[r].present)
				plan_error(diags, seq, st, &errors, "bench has no '%s' instrument; a "
					   "%s step needs one (add it to bench.instruments in %s)",
					   rig_role_name((enum rig_role)r), step_kind_name(st->kind),
					   bench->path);
		switch (st->kind) {
		case STEP_SET_RATE:
			if (st->rate_ml_per_h < dev->rate_min_ml_per_h * (1 - 1e-9) ||
			    st->rate_ml_per_h > dev->rate_max_ml_per_h * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "rate %g mL/h is outside the "
					   "device's rate range; allowed %g to %g mL/h (%s)",
					   st->rate_ml_per_h, dev->rate_min_ml_per_h,
					   dev->rate_max_ml_per_h, dev->path);
			break;
		case STEP_PRIME:
		case STEP_BOLUS:
			if (st->rate_ml_per_h > rate_max * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "rate %g mL/h is outside the "
					   "device's rate range; allowed up to %g mL/h (%s)",
					   st->rate_ml_per_h, rate_max, dev->path);
			if (st->kind == STEP_BOLUS && st->volume_ml > dev->bolus_max_ml * (1 + 1e-9))
				plan_error(diags, seq, st, &errors, "bolus %g mL is above the device's "
					   "maximum bolus; allowed up to %g mL (%s)", st->volume_ml,
					   dev->bolus_max_ml, dev->path);
			if (st->kind == STEP_PRIME && st->volume_ml > dev->reservoir_ml)
				plan_error(diags, seq, st, &errors, "prime volume %g mL is above the "
					   "device's reservoir; allowed up to %g mL (%s)", st->volume_ml,
					   dev->reservoir_ml, dev->path);
			if (st->volume_ml > bench->limit_volume_ml)
				plan_error(diags, seq, st, &errors, "volume %g mL is above the bench's "
					   "delivered_max limit; allowed up to %g mL (%s)", st->volume_ml,
					   bench->limit_volume_ml, bench->path);
			break;
		case STEP_MARK: {
			struct window_state *w = NULL;

			for (size_t k = 0; k < n_win; k++)
				if (strcmp(win[k].name, st->window) == 0)
					w = &win[k];
			if (st->edge == MARK_BEGIN) {
				if (w) {
					plan_error(diags, seq, st, &errors, "window '%s' is begun a second "
						   "time (first at line %d); each window is marked once, "
						   "begin then end", st->window, w->begin ? w->begin->line : 0);
					break;
				}
				win[n_win++] = (struct window_state){ .name = st->window, .begin = st };
			} else if (!w || !w->begin) {
				plan_error(diags, seq, st, &errors, "window '%s' ends here but never "
					   "begins; mark it with edge = \"begin\" first", st->window);
			} else if (w->end) {
				plan_error(diags, seq, st, &errors, "window '%s' ends a second time "
					   "(first at line %d)", st->window, w->end->line);
			} else {
				w->end = st;
			}
			break;
		}
		default:
			break;
		}
	}
	for (size_t k = 0; k < n_win; k++)
		if (!win[k].end)
			plan_error(diags, seq, win[k].begin, &errors, "window '%s' begins here but "
				   "never ends; add a mark with edge = \"end\"", win[k].name);
	for (size_t i = 0; i < seq->n_steps; i++) {
		const struct step *st = &seq->steps[i];
		bool found = false;

		if (st->kind != STEP_CHECK)
			continue;
		for (size_t k = 0; k < n_win; k++)
			if (strcmp(win[k].name, st->window) == 0 && win[k].end)
				found = true;
		if (!found) {
			char names[256] = "";
			size_t len = 0;

			for (size_t k = 0; k < n_win; k++) {
				int w = snprintf(names + len, sizeof(names) - len, "%s%s", k ? ", " : "",
						 win[k].name);
				if (w < 0 || (size_t)w >= sizeof(names) - len)
					break;
				len += (size_t)w;
			}
			plan_error(diags, seq, st, &errors, "window '%s' is not marked (begin and end) "
				   "in this sequence; marked windows: %s", st->window,
				   n_win ? names : "none");
		}
	}
	free(win);
	return errors ? -EINVAL : 0;
}
