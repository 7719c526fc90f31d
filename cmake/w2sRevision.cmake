# Run at every build by the w2s_revision target (cmake -P): writes OUT, one line, the output of
# `git describe --always --dirty --abbrev=12` of SOURCE_DIR ("" outside a checkout). Experiment
# binaries read it at run time for their records (include/w2s/core/code.hpp, code::revision()),
# so a commit that changes no code relinks no binary; the hashes that identify the code are
# embedded (cmake/w2sFingerprint.cmake). OUT is rewritten only when the revision changes.
foreach(var OUT SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "w2sRevision.cmake: -D${var}=... is required")
  endif()
endforeach()
set(revision "")
find_program(git_program git)
if(git_program)
  execute_process(COMMAND "${git_program}" -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12
                  OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE git_status)
  if(NOT git_status EQUAL 0)
    set(revision "")
  endif()
endif()
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL "${revision}\n")
  file(WRITE "${OUT}.part" "${revision}\n")
  file(RENAME "${OUT}.part" "${OUT}")
endif()
