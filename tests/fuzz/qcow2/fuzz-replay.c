/*
 * fuzz-replay.c: runs the fuzz target once per file, for the files and
 * folders given, so that the normal test suite exercises it over a corpus
 * without libFuzzer.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "fuzz-replay: cannot read %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    g_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0, errors = 0;
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            GDir *dir = g_dir_open(argv[i], 0, NULL);
            const char *name;
            while (dir && (name = g_dir_read_name(dir))) {
                char *p = g_build_filename(argv[i], name, NULL);
                errors += replay_file(p);
                count++;
                g_free(p);
            }
            if (dir) {
                g_dir_close(dir);
            }
        } else {
            errors += replay_file(argv[i]);
            count++;
        }
    }
    printf("fuzz-replay: %d inputs replayed\n", count);
    return errors ? 1 : 0;
}
