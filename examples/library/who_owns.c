/* who_owns.c - libhashspace alone: which cache server owns each key given on
 * the command line? The answers are those of
 *   hashspace route --members cache-a,cache-b,cache-c=2 KEY...
 * Build against an installed libhashspace:
 *   cc -std=c11 who_owns.c $(pkg-config --cflags --libs hashspace) -o who_owns
 */
#include <hashspace/error.h>
#include <hashspace/view.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    /* A view: members sorted by name, so every process builds the same one;
     * "jump" on xxh3, the defaults of `hashspace route`. */
    hs_view_member members[] = {{"cache-a", 1}, {"cache-b", 1}, {"cache-c", 2}};
    hs_view *view;
    int rc = hs_view_new(&view, 1, "jump", NULL, NULL, members, 3);
    if (rc != HS_OK) {
        fprintf(stderr, "who_owns: %s\n", hs_strerror(rc));
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        size_t owner;
        rc = hs_view_owner(view, argv[i], strlen(argv[i]), &owner);
        if (rc != HS_OK) {
            fprintf(stderr, "who_owns: %s: %s\n", argv[i], hs_strerror(rc));
            break;
        }
        printf("%s\t%s\n", argv[i], hs_view_member_name(view, owner));
    }
    hs_view_release(view); /* views are reference-counted; readers retain */
    return rc == HS_OK ? 0 : 1;
}
