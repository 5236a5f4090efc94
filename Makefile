# Monologue -- root Makefile.
#
#   make              build/libmonologue.a and the CLI build/monologue
#   make test         every test: C (plain + ASan/UBSan), Python, peers, fuzz smoke
#   make test-c       just the C test runner
#   make asan         the library, CLI and C tests with AddressSanitizer + UBSan
#   make fuzz         libFuzzer targets (clang) in build/fuzz/
#
# Sources are found by folder; kernels for one ISA carry a suffix
# (_avx2.c, _avx512.c, _neon.c, _wasm.c) and get that ISA's flags, so the
# rest of the library stays portable C11.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
ARCH    ?= $(shell $(CC) -dumpmachine | cut -d- -f1)
CFLAGS  ?=
CFLAGS  += -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter -Iinclude -Isrc $(OPT) -pthread -fPIC
LDLIBS  += -lm -pthread

# Kernel functions start on 64-byte boundaries, so where their hot loops
# fall in the instruction cache does not depend on unrelated code: an
# edit to the quantizers (never called by an F16 model) once moved the
# F16 matrix-vector loop and cost that model's decode 7%.
KERNEL_ALIGN := -falign-functions=64 -falign-loops=64
FLAGS_avx2   := -mavx2 -mfma -mf16c $(KERNEL_ALIGN)
FLAGS_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mavx2 -mfma -mf16c $(KERNEL_ALIGN)

LIB_SRC := $(shell find src -name '*.c' -not -path 'src/cli/*' | sort)
ifneq ($(ARCH),x86_64)
LIB_SRC := $(filter-out %_avx2.c %_avx512.c,$(LIB_SRC))
endif
ifneq ($(ARCH),aarch64)
LIB_SRC := $(filter-out %_neon.c,$(LIB_SRC))
endif
LIB_SRC := $(filter-out %_wasm.c,$(LIB_SRC))
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(shell find tests/c -name '*.c' | sort)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

.PHONY: all lib test test-c asan fuzz clean python
all: $(BUILD)/libmonologue.a $(BUILD)/monologue

lib: $(BUILD)/libmonologue.a

$(BUILD)/libmonologue.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/monologue: $(CLI_OBJ) $(BUILD)/libmonologue.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_runner: $(TEST_OBJ) $(BUILD)/libmonologue.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -ldl

$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FLAGS_avx2) -MMD -MP -c $< -o $@

$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FLAGS_avx512) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

test-c: $(BUILD)/test_runner $(BUILD)/monologue
	$(BUILD)/test_runner

asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build/asan/test_runner build/asan/monologue

fuzz:
	./fuzz/build.sh

test: all $(BUILD)/test_runner
	./tests/run_all.sh

clean:
	rm -rf build

-include $(DEPS)
