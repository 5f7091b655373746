# Shared by every *.Tests.ps1 file: where the module is, and the leak checks.
# The module under test is out/ProcessPool (laid out by the PoolCmdlets build) unless PROCESSPOOL_MODULE names another.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
. (Join-Path $script:RepoRoot 'tools/Find-PowerShell.ps1') # Invoke-PowerShell starts a child session
$script:ModuleManifest = if ($env:PROCESSPOOL_MODULE) { $env:PROCESSPOOL_MODULE } else { Join-Path $RepoRoot 'out/ProcessPool/ProcessPool.psd1' }

function Import-ProcessPoolModule {
    if (-not (Test-Path -LiteralPath $script:ModuleManifest)) {
        throw "The module is not built: '$script:ModuleManifest' does not exist. Run 'dotnet build' or './build.ps1 -Task Build' first."
    }
    Import-Module $script:ModuleManifest -Force -ErrorAction Stop
}

# The test payload assembly (static methods), built by the solution; the newest build wins.
function Get-TestMethodsPath {
    $candidates = Get-ChildItem -Path (Join-Path $script:RepoRoot 'tests/TestMethods/bin') -Recurse -Filter 'ProcessPool.TestMethods.dll' -ErrorAction SilentlyContinue |
        Sort-Object LastWriteTimeUtc -Descending
    if (-not $candidates) { throw 'tests/TestMethods is not built; run dotnet build first.' }
    $candidates[0].FullName
}

function Test-ProcessAlive([int] $Id) {
    $process = Get-Process -Id $Id -ErrorAction SilentlyContinue
    if (-not $process) { return $false }
    if ($IsLinux) {
        # A zombie (exited, not reaped) is gone for our purposes... but the engine must reap: count it as alive.
        return Test-Path "/proc/$Id/stat"
    }
    return -not $process.HasExited
}

# Polls (never a fixed sleep) until no item satisfies $IsLeft; returns the items that still do after the bound.
function Wait-NoneLeft([object[]] $Item, [scriptblock] $IsLeft, [double] $TimeoutSeconds) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    do {
        $left = @($Item | Where-Object $IsLeft)
        if ($left.Count -eq 0) { return @() }
        Start-Sleep -Milliseconds 50
    } while ($clock.Elapsed.TotalSeconds -lt $TimeoutSeconds)
    return $left
}

# Waits until none of the processes is alive; returns the ids still alive after the bound.
function Wait-ProcessGone([int[]] $Id, [double] $TimeoutSeconds = 15) {
    Wait-NoneLeft $Id { Test-ProcessAlive $_ } $TimeoutSeconds
}

# Polls a condition with a generous bound; true when it held.
function Wait-Until([scriptblock] $Condition, [double] $TimeoutSeconds = 30) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while (-not (& $Condition)) {
        if ($clock.Elapsed.TotalSeconds -gt $TimeoutSeconds) { return $false }
        Start-Sleep -Milliseconds 50
    }
    return $true
}

# A pool for one test file, with a name no other file uses.
function New-TestPool([int] $Size = 2, [hashtable] $Options = @{}) {
    $name = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    New-ProcessPool -Size $Size -Name $name @Options
}

# Removes a pool by force and asserts every worker it ever started is gone.
function Remove-TestPool($Pool) {
    if (-not $Pool) { return }
    $ids = $Pool.GetAllStartedProcessIds()
    Remove-ProcessPool -Pool $Pool -Force -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    $alive = Wait-ProcessGone $ids
    if ($alive.Count -gt 0) { throw "Workers still alive after Remove-ProcessPool -Force: $($alive -join ', ')" }
}

# Script text for an item that starts two processes meant to outlive it, and returns their ids: one through
# Start-Process (a child of the worker) and one that a shell leaves running in the background (a grandchild that is
# re-parented when the shell exits). Unix only: /bin/sleep and sh.
$script:SpawnSleepers = @'
$sleeper = Start-Process -FilePath /bin/sleep -ArgumentList 300 -PassThru
$background = sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $!'
$sleeper.Id, [int]$background
'@

# The identity of a running process: its id and start time, so that an id the system reuses later is never taken for it.
# With -IgnoreEnded, processes that already ended are left out instead of failing the test.
function Get-ProcessIdentity([int[]] $Id, [switch] $IgnoreEnded) {
    foreach ($one in $Id) {
        $process = Get-Process -Id $one -ErrorAction SilentlyContinue
        if (-not $process) {
            if ($IgnoreEnded) { continue }
            throw "Process $one is not running; the test expected it to be."
        }
        [pscustomobject]@{ Id = $one; StartTime = $process.StartTime }
    }
}

# True while the process runs: it exists with the same start time and, on Linux, is not a zombie. A zombie has ended;
# an orphan's zombie waits for init to reap it, which some container inits never do, so it counts as ended here.
function Test-ProcessRunning($Identity) {
    $process = Get-Process -Id $Identity.Id -ErrorAction SilentlyContinue
    if (-not $process -or $process.StartTime -ne $Identity.StartTime) { return $false }
    if ($IsLinux) {
        $stat = Get-Content -LiteralPath "/proc/$($Identity.Id)/stat" -Raw -ErrorAction SilentlyContinue
        if (-not $stat) { return $false }
        return $stat.Substring($stat.LastIndexOf(')') + 2, 1) -ne 'Z'
    }
    return -not $process.HasExited
}

# Waits (polling) until none of the processes runs; returns the ids still running after the bound.
function Wait-ProcessEnded([object[]] $Identity, [double] $TimeoutSeconds = 15) {
    @((Wait-NoneLeft $Identity { Test-ProcessRunning $_ } $TimeoutSeconds).Id)
}

# Kills whatever of these processes still runs (a test's cleanup, whatever happened before it).
function Stop-TestProcess([object[]] $Identity) {
    foreach ($one in $Identity) {
        if ($one -and (Test-ProcessRunning $one)) { Stop-Process -Id $one.Id -Force -ErrorAction SilentlyContinue }
    }
}

# Starts a PowerShell session of its own running $Script with the given arguments (strings) and returns its process;
# the session writes its own $PID wherever the script says, since a .NET tool's launcher may stand in between.
# Its output goes to $OutputPath.
function Start-ChildSession([string] $Script, [string[]] $ArgumentList, [string] $OutputPath) {
    $quoted = ($ArgumentList | ForEach-Object { "'" + $_.Replace("'", "''") + "'" }) -join ' '
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("& { $Script } $quoted"))
    $command = Find-PowerShell
    $arguments = @($command | Select-Object -Skip 1) + '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded
    Start-Process -FilePath $command[0] -ArgumentList $arguments -WorkingDirectory $script:RepoRoot -PassThru -RedirectStandardOutput $OutputPath -RedirectStandardError "$OutputPath.err"
}
