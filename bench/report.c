/* report.c - tables of benchmark results, printed as aligned text, CSV or
 * one JSON document, and optionally one CSV file per table for gnuplot. */
#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    char *text;
    bool number; /* right-aligned in text, unquoted in JSON */
} cell;

struct bench_report {
    bench_format format;
    char *command;
    char *outdir;
    char prefix[32];
    bool failed;     /* out of memory or a write error */
    bool json_table; /* a JSON table was already written */
    /* The table being filled. */
    char *name, *title;
    unsigned flags;
    char **columns;
    size_t n_columns;
    cell *cells; /* row-major, n_columns per row */
    size_t n_cells, cap_cells;
    /* JSON: notes, printed at the end. */
    char **notes;
    size_t n_notes;
};

static char *copy_str(bench_report *r, const char *s)
{
    char *c = strdup(s ? s : "");
    if (c == NULL)
        r->failed = true;
    return c;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

bench_report *bench_report_new(bench_format format, const char *command, const char *outdir)
{
    bench_report *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->format = format;
    r->command = copy_str(r, command);
    r->outdir = outdir ? copy_str(r, outdir) : NULL;
    if (r->failed) {
        free(r->command);
        free(r->outdir);
        free(r);
        return NULL;
    }
    if (format == BENCH_JSON) {
        printf("{\n  \"command\": ");
        json_string(stdout, r->command);
        printf(",\n  \"machine\": {\"cpu\": ");
        json_string(stdout, bench_cpu_model());
        printf(", \"nproc\": %ld},\n  \"tables\": {", bench_cpu_count());
    }
    return r;
}

static void clear_table(bench_report *r)
{
    for (size_t i = 0; i < r->n_columns; i++)
        free(r->columns[i]);
    free(r->columns);
    for (size_t i = 0; i < r->n_cells; i++)
        free(r->cells[i].text);
    free(r->cells);
    free(r->name);
    free(r->title);
    r->columns = NULL;
    r->cells = NULL;
    r->name = r->title = NULL;
    r->n_columns = r->n_cells = r->cap_cells = 0;
}

void bench_report_prefix(bench_report *r, const char *prefix)
{
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix ? prefix : "");
}

void bench_table(bench_report *r, const char *name, const char *title, unsigned flags,
                 const char *const *columns)
{
    clear_table(r);
    size_t n = 0;
    while (columns[n] != NULL)
        n++;
    r->columns = calloc(n, sizeof *r->columns);
    if (r->columns == NULL) {
        r->failed = true;
        return;
    }
    r->n_columns = n;
    for (size_t i = 0; i < n; i++)
        r->columns[i] = copy_str(r, columns[i]);
    size_t len = strlen(r->prefix) + strlen(name) + 1;
    r->name = malloc(len);
    if (r->name == NULL)
        r->failed = true;
    else
        snprintf(r->name, len, "%s%s", r->prefix, name);
    r->title = copy_str(r, title);
    r->flags = flags;
}

static void add_cell(bench_report *r, char *text, bool number)
{
    if (text == NULL) {
        r->failed = true;
        return;
    }
    if (r->n_cells == r->cap_cells) {
        size_t cap = r->cap_cells ? 2 * r->cap_cells : 64;
        cell *c = realloc(r->cells, cap * sizeof *c);
        if (c == NULL) {
            free(text);
            r->failed = true;
            return;
        }
        r->cells = c;
        r->cap_cells = cap;
    }
    r->cells[r->n_cells++] = (cell){.text = text, .number = number};
}

void bench_cell_str(bench_report *r, const char *s)
{
    add_cell(r, strdup(s), false);
}

void bench_cell_u64(bench_report *r, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    add_cell(r, strdup(buf), true);
}

void bench_cell_num(bench_report *r, double v, int decimals)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof buf, "n/a");
    else if (decimals < 0)
        snprintf(buf, sizeof buf, "%.*g", -decimals, v);
    else
        snprintf(buf, sizeof buf, "%.*f", decimals, v);
    add_cell(r, strdup(buf), true);
}

void bench_row_end(bench_report *r)
{
    /* Pad a short row so columns stay aligned. */
    while (r->n_columns > 0 && r->n_cells % r->n_columns != 0)
        add_cell(r, strdup(""), false);
}

static bool is_na(const cell *c)
{
    return strcmp(c->text, "n/a") == 0 || c->text[0] == '\0';
}

static void print_csv(FILE *f, const bench_report *r)
{
    for (size_t i = 0; i < r->n_columns; i++)
        fprintf(f, "%s%s", i ? "," : "", r->columns[i]);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_cells; i++) {
        const cell *c = &r->cells[i];
        bool quote = !c->number && strpbrk(c->text, ",\"\n") != NULL;
        if (quote) {
            fputc('"', f);
            for (const char *s = c->text; *s; s++) {
                if (*s == '"')
                    fputc('"', f);
                fputc(*s, f);
            }
            fputc('"', f);
        } else {
            /* gnuplot reads NaN as a missing point. */
            fputs(c->number && is_na(c) ? "NaN" : c->text, f);
        }
        fputc((i + 1) % r->n_columns == 0 ? '\n' : ',', f);
    }
}

static void print_text(const bench_report *r)
{
    size_t *width = calloc(r->n_columns, sizeof *width);
    if (width == NULL)
        return;
    for (size_t i = 0; i < r->n_columns; i++)
        width[i] = strlen(r->columns[i]);
    for (size_t i = 0; i < r->n_cells; i++) {
        size_t w = strlen(r->cells[i].text);
        if (w > width[i % r->n_columns])
            width[i % r->n_columns] = w;
    }
    printf("\n%s\n", r->title);
    /* Numbers are right-aligned: so is their heading. */
    for (size_t i = 0; i < r->n_columns; i++) {
        bool right = r->n_cells > i && r->cells[i].number;
        printf("%s%*s%s", i ? "  " : "", right ? (int)width[i] : -(int)width[i], r->columns[i], "");
    }
    putchar('\n');
    for (size_t i = 0; i < r->n_columns; i++) {
        printf("%s", i ? "  " : "");
        for (size_t k = 0; k < width[i]; k++)
            putchar('-');
    }
    putchar('\n');
    for (size_t i = 0; i < r->n_cells; i++) {
        const cell *c = &r->cells[i];
        size_t col = i % r->n_columns;
        printf("%s%*s", col ? "  " : "", c->number ? (int)width[col] : -(int)width[col], c->text);
        if (col + 1 == r->n_columns)
            putchar('\n');
    }
    free(width);
}

static void print_json(bench_report *r)
{
    printf("%s\n    ", r->json_table ? "," : "");
    r->json_table = true;
    json_string(stdout, r->name);
    printf(": {\"title\": ");
    json_string(stdout, r->title);
    printf(", \"rows\": [");
    size_t rows = r->n_columns ? r->n_cells / r->n_columns : 0;
    for (size_t row = 0; row < rows; row++) {
        printf("%s\n      {", row ? "," : "");
        for (size_t col = 0; col < r->n_columns; col++) {
            const cell *c = &r->cells[row * r->n_columns + col];
            printf("%s", col ? ", " : "");
            json_string(stdout, r->columns[col]);
            printf(": ");
            if (c->number)
                fputs(is_na(c) ? "null" : c->text, stdout);
            else
                json_string(stdout, c->text);
        }
        putchar('}');
    }
    printf("]}");
}

static void write_file(bench_report *r)
{
    size_t len = strlen(r->outdir) + strlen(r->name) + 8;
    char *path = malloc(len);
    if (path == NULL) {
        r->failed = true;
        return;
    }
    snprintf(path, len, "%s/%s.csv", r->outdir, r->name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        if (!r->failed)
            fprintf(stderr, "hashspace %.*s: cannot write %s\n", (int)strcspn(r->command, " "),
                    r->command, path);
        r->failed = true;
    } else {
        print_csv(f, r);
        if (fclose(f) != 0)
            r->failed = true;
    }
    free(path);
}

void bench_table_end(bench_report *r)
{
    if (r->columns == NULL)
        return;
    bench_row_end(r);
    if (r->format == BENCH_TEXT && !(r->flags & BENCH_TABLE_DATA))
        print_text(r);
    else if (r->format == BENCH_CSV) {
        printf("# %s: %s\n", r->name, r->title);
        print_csv(stdout, r);
        printf("\n\n");
    } else if (r->format == BENCH_JSON)
        print_json(r);
    if (r->outdir != NULL)
        write_file(r);
    fflush(stdout);
    clear_table(r);
}

void bench_note(bench_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    if (text == NULL) {
        r->failed = true;
        return;
    }
    if (r->format == BENCH_TEXT) {
        printf("  %s\n", text);
        free(text);
    } else if (r->format == BENCH_CSV) {
        printf("# %s\n", text);
        free(text);
    } else {
        char **n = realloc(r->notes, (r->n_notes + 1) * sizeof *n);
        if (n == NULL) {
            free(text);
            r->failed = true;
            return;
        }
        r->notes = n;
        r->notes[r->n_notes++] = text;
    }
}

int bench_report_finish(bench_report *r)
{
    if (r == NULL)
        return 0;
    clear_table(r);
    if (r->format == BENCH_JSON) {
        printf("\n  },\n  \"notes\": [");
        for (size_t i = 0; i < r->n_notes; i++) {
            printf("%s\n    ", i ? "," : "");
            json_string(stdout, r->notes[i]);
        }
        printf("%s]\n}\n", r->n_notes ? "\n  " : "");
    }
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    bool failed = r->failed || fflush(stdout) != 0 || ferror(stdout);
    free(r->command);
    free(r->outdir);
    free(r);
    return failed ? -1 : 0;
}
