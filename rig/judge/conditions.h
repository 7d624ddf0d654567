/* The measured conditions of a run (conditions.c), for the reader. */
#ifndef RIG_JUDGE_CONDITIONS_H
#define RIG_JUDGE_CONDITIONS_H

#include <stddef.h>
#include <stdio.h>
#include "results.h"

/* Fills res->conditions from the run's samples.csv, read from where the
 * stream stands to its end: one entry for each condition role the bench
 * has (none: returns at once, nothing read). */
void conditions_read(FILE *samples, const struct bench *bench, struct run_results *res);
/* The fluid's density, the air's and the volume per gram, with their
 * uncertainties and sources, into res; the relative standard uncertainty
 * of the volume per gram into *ret_u_rel_factor. */
void conditions_apply(const struct bench *bench, struct run_results *res,
		      double *ret_u_rel_factor);
/* An instrument event for each condition read outside its declared range,
 * and for a fluid measured away from the sequence's fluid_temperature. */
void conditions_flag(struct run_results *res, const struct sequence *seq);

#endif
