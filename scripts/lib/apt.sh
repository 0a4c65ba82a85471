# Sourced by the install scripts: Debian packages through apt-get.

# apt_install PACKAGE...: installs the packages with apt-get, through sudo
# when not root; without apt-get it fails, naming what to install.
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "no apt-get: install $* from your distribution and put them on PATH" >&2
    exit 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  echo "installing $* with apt-get"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}

# stop_service NAME: stops and disables a system service a package started
# (the tests and make run start their own servers instead).
stop_service() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$1" 2>/dev/null; then
    echo "stopping and disabling the $1 system service the package started"
    $sudo systemctl disable --now "$1" || true
  fi
}
