#include "cli/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/images.h"

struct progress_line {
	char id[16];
	char status[32];
};

struct progress {
	bool tty;
	FILE *out;
	struct progress_line *lines;
	size_t n;
};

struct progress *progress_new(bool tty, FILE *out)
{
	struct progress *p = calloc(1, sizeof(*p));
	if (p) {
		p->tty = tty;
		p->out = out;
	}
	return p;
}

void progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	free(p->lines);
	free(p);
}

static void human(char *buf, size_t size, double v)
{
	const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	unsigned u = 0;
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static void draw(FILE *f, const struct image_event *ev)
{
	fprintf(f, "%s: %s", ev->id, ev->status);
	if (ev->total > 0 && ev->current <= ev->total && strcmp(ev->status, "Downloading") == 0) {
		char done[16], total[16], bar[51];
		human(done, sizeof(done), (double)ev->current);
		human(total, sizeof(total), (double)ev->total);
		size_t fill = (size_t)(50.0 * (double)ev->current / (double)ev->total);
		for (size_t i = 0; i < 50; i++)
			bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
		bar[50] = '\0';
		fprintf(f, " [%s] %7s/%s", bar, done, total);
	}
}

void progress_event(void *userdata, const struct image_event *ev)
{
	struct progress *p = userdata;
	if (ev->kind == IMAGE_EVENT_STATUS || ev->id == NULL) {
		fprintf(p->out, "%s\n", ev->status);
		fflush(p->out);
		return;
	}
	size_t i = 0;
	while (i < p->n && strcmp(p->lines[i].id, ev->id) != 0)
		i++;
	if (i == p->n) {
		struct progress_line *grown = realloc(p->lines, (p->n + 1) * sizeof(*grown));
		if (grown == NULL)
			return;
		p->lines = grown;
		memset(&p->lines[i], 0, sizeof(p->lines[i]));
		snprintf(p->lines[i].id, sizeof(p->lines[i].id), "%s", ev->id);
		p->n++;
		if (p->tty) {
			draw(p->out, ev);
			fputc('\n', p->out);
		}
	}
	bool changed = strcmp(p->lines[i].status, ev->status) != 0;
	snprintf(p->lines[i].status, sizeof(p->lines[i].status), "%s", ev->status);
	if (p->tty) {
		/* Up to the layer's line, redraw it, back down. */
		size_t up = p->n - i;
		fprintf(p->out, "\033[%zuA\r\033[2K", up);
		draw(p->out, ev);
		fprintf(p->out, "\033[%zuB\r", up);
	} else if (changed) {
		fprintf(p->out, "%s: %s\n", ev->id, ev->status);
	}
	fflush(p->out);
}
