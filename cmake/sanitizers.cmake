# Sanitizer builds (make test-asan, make fuzz). Included before any target is
# defined, so every object of the build, ours and the tests', is instrumented.
#
#   EPMPULSE_SANITIZERS  e.g. "address,undefined"; empty = none (the default)
#   EPMPULSE_JEMALLOC    link jemalloc (default ON); forced OFF with sanitizers,
#                        whose own allocator must see every malloc and free.

set(EPMPULSE_SANITIZERS "" CACHE STRING
  "Sanitizers to compile with (-fsanitize=...), e.g. address,undefined")
option(EPMPULSE_JEMALLOC "Link jemalloc as the allocator" ON)

if(EPMPULSE_SANITIZERS)
  if(EPMPULSE_JEMALLOC)
    message(STATUS "EPMPULSE_SANITIZERS=${EPMPULSE_SANITIZERS}: jemalloc is not linked")
    set(EPMPULSE_JEMALLOC OFF CACHE BOOL "Link jemalloc as the allocator" FORCE)
  endif()
  # -O1 keeps the suite fast enough under ASan while frames stay readable;
  # -g1 (line tables only) gives reports file:line at a fraction of -g's cost.
  # -fno-sanitize-recover: UBSan's findings stop the test instead of scrolling by.
  # The null check alone recovers, so that tests/sanitizers/ubsan.supp can
  # suppress CAF 0.17's one report there; halt_on_error=1 (Makefile) still
  # stops on every other null report.
  # -UNDEBUG: assert() (ours, nlohmann's JSON_ASSERT) checks too.
  add_compile_options(-fsanitize=${EPMPULSE_SANITIZERS} -fno-omit-frame-pointer
    -fno-sanitize-recover=all -fsanitize-recover=null -O1 -g1 -UNDEBUG)
  add_link_options(-fsanitize=${EPMPULSE_SANITIZERS})
endif()
