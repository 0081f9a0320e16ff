/* export.h - HS_EXTERN, the mark of a function libhashspace exports.
 *
 * The library is built with hidden visibility (-fvisibility=hidden), so only
 * the functions declared with HS_EXTERN in include/hashspace/ are in its
 * dynamic symbol table; the hs__ functions shared between its files are not.
 */
#ifndef HASHSPACE_EXPORT_H
#define HASHSPACE_EXPORT_H

#if defined(__GNUC__) && __GNUC__ >= 4
#define HS_EXTERN __attribute__((visibility("default")))
#else
#define HS_EXTERN
#endif

#endif
