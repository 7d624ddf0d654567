# Writes version.h from `git describe`; falls back to the project version
# outside a git checkout.  Rewrites only on change so nothing rebuilds needlessly.
execute_process(COMMAND git -C ${SRC} describe --always --dirty --tags
  OUTPUT_VARIABLE desc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR desc STREQUAL "")
  set(desc "${FALLBACK}-nogit")
endif()
set(text "#define RIG_VERSION \"${desc}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
