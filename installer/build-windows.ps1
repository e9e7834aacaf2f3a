<#
.SYNOPSIS
  Builds the Windows bundle of dsj-desktop (PyInstaller one-folder) and its NSIS installer.

.DESCRIPTION
  The Windows counterpart of installer/build-linux.sh, step by step:
    1. git archive HEAD into a clean folder (only committed files are built);
    2. a fresh venv from Python 3.11 x64, `pip install <src>` plus installer/requirements-build.txt;
    3. installer/build_bundle.py (PyInstaller with installer/dsj-desktop.spec; writes BUILDINFO.txt);
    4. a smoke test of dsj-desktop-cli.exe (--version, demo, info) against a temporary data folder;
    5. makensis on installer/windows/dsj-desktop.nsi -> dsj-desktop-<version>-setup.exe.

  Needs on the build PC (Windows 10/11 x64, network for PyPI):
    - Python 3.11 x64 from python.org (the "py" launcher) - or pass -Python C:\path\python.exe
    - Git for Windows (git on PATH)
    - NSIS 3.x (makensis on PATH, or installed in Program Files (x86)\NSIS) - unless -SkipInstaller

  Usage, from the repository root:
    powershell -ExecutionPolicy Bypass -File installer\build-windows.ps1
  Results in <BuildDir>\out: the folder dsj-desktop\, dsj-desktop-<version>-windows-x64.zip and
  dsj-desktop-<version>-setup.exe.

  This file is kept ASCII-only: Windows PowerShell 5.1 reads scripts without a BOM as ANSI.
#>
[CmdletBinding()]
param(
    [string]$Python = "",                                   # default: py -3.11
    [string]$BuildDir = (Join-Path $env:LOCALAPPDATA "dsj-build"),
    [switch]$SkipInstaller
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

function Invoke-Native {
    # Invoke-Native EXE ARGS...: run a native command, stop on a non-zero exit code (PowerShell 5.1
    # does not by itself).  A simple function on purpose: its arguments ("-m", "--version") go to $args
    # untouched instead of being taken for PowerShell parameters.
    $exe, $rest = $args
    & $exe @rest
    if ($LASTEXITCODE -ne 0) { throw "failed ($LASTEXITCODE): $exe $($rest -join ' ')" }
}

$started = Get-Date
$Repo = (Resolve-Path (Join-Path $PSScriptRoot "..")).Path
$Src = Join-Path $BuildDir "src"
$Venv = Join-Path $BuildDir "venv"
$Dist = Join-Path $BuildDir "dist"
$Work = Join-Path $BuildDir "work"
$Out = Join-Path $BuildDir "out"

# ------------------------------------------------------------------------------- 1. committed source
if (git -C $Repo status --porcelain --untracked-files=no) {
    Write-Warning "uncommitted changes are NOT built (the build uses git archive HEAD)"
}
$commit = (git -C $Repo rev-parse --short HEAD).Trim()
foreach ($dir in @($Src, $Venv, $Dist, $Work)) {
    if (Test-Path $dir) { Remove-Item -Recurse -Force $dir }
}
New-Item -ItemType Directory -Force -Path $Src, $Out | Out-Null
$tarball = Join-Path $BuildDir "src.tar"
Invoke-Native git -C $Repo archive --format=tar -o $tarball HEAD
Invoke-Native tar -x -f $tarball -C $Src                 # tar.exe ships with Windows 10 1803 and later
Remove-Item $tarball

# ------------------------------------------------------------------------------------------- 2. venv
if ($Python) {
    Invoke-Native $Python -m venv $Venv
} else {
    Invoke-Native py -3.11 -m venv $Venv
}
$py = Join-Path $Venv "Scripts\python.exe"
$pyVersion = (& $py -c "import platform, struct; print(platform.python_version(), struct.calcsize('P') * 8)").Trim()
if ($pyVersion -notmatch '^3\.11\.\d+ 64$') { throw "need 64-bit Python 3.11, got: $pyVersion" }
Invoke-Native $py -m pip install --disable-pip-version-check -q --upgrade pip
Invoke-Native $py -m pip install --disable-pip-version-check -q $Src -r (Join-Path $Src "installer\requirements-build.txt")

# ------------------------------------------------------------------------------------- 3. PyInstaller
$env:DSJ_COMMIT = $commit
$env:DSJ_BUILD_ENV = "Windows $([Environment]::OSVersion.Version), Python $pyVersion-bit"
$t = Get-Date
Invoke-Native $py (Join-Path $Src "installer\build_bundle.py") --quiet --dist $Dist --work $Work
$pyinstallerSeconds = [int]((Get-Date) - $t).TotalSeconds
$bundle = Join-Path $Dist "dsj-desktop"
$version = ((Get-Content (Join-Path $bundle "BUILDINFO.txt") -Encoding UTF8 |
    Where-Object { $_ -like "program: dsj-desktop *" }) -replace "^program: dsj-desktop ", "").Trim()

# ------------------------------------------------------------------------------------------ 4. smoke
$data = Join-Path ([IO.Path]::GetTempPath()) ("dsj-smoke-" + [Guid]::NewGuid())
$env:QT_QPA_PLATFORM = "offscreen"
$cli = Join-Path $bundle "dsj-desktop-cli.exe"
try {
    Invoke-Native $cli --version
    Invoke-Native $cli --data-dir $data demo
    Invoke-Native $cli --data-dir $data info
} finally {
    Remove-Item Env:\QT_QPA_PLATFORM
    if (Test-Path $data) { Remove-Item -Recurse -Force $data }
}

# ------------------------------------------------------------------------------------ 5. installer
$outBundle = Join-Path $Out "dsj-desktop"
if (Test-Path $outBundle) { Remove-Item -Recurse -Force $outBundle }
Copy-Item -Recurse $bundle $outBundle
$zip = Join-Path $Out "dsj-desktop-$version-windows-x64.zip"
if (Test-Path $zip) { Remove-Item $zip }
Compress-Archive -Path $bundle -DestinationPath $zip

if (-not $SkipInstaller) {
    $makensis = (Get-Command makensis -ErrorAction SilentlyContinue).Source
    if (-not $makensis) {
        foreach ($candidate in @("${env:ProgramFiles(x86)}\NSIS\makensis.exe", "$env:ProgramFiles\NSIS\makensis.exe")) {
            if (Test-Path $candidate) { $makensis = $candidate; break }
        }
    }
    if (-not $makensis) { throw "makensis not found: install NSIS 3 or pass -SkipInstaller" }
    $setup = Join-Path $Out "dsj-desktop-$version-setup.exe"
    Invoke-Native $makensis /V2 /INPUTCHARSET UTF8 "/DVERSION=$version" "/DBUNDLE=$bundle" "/DOUTFILE=$setup" `
        (Join-Path $Src "installer\windows\dsj-desktop.nsi")
}

$size = (Get-ChildItem -Recurse -File $bundle | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ""
Write-Host ("done in {0} s (PyInstaller {1} s); bundle {2:N0} MB" -f [int]((Get-Date) - $started).TotalSeconds, $pyinstallerSeconds, $size)
Get-ChildItem $Out | Format-Table Name, Length
