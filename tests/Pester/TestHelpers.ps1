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

# Waits (polling, never a fixed sleep) until none of the processes is alive; returns the ids still alive after the bound.
function Wait-ProcessGone([int[]] $Id, [double] $TimeoutSeconds = 15) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    do {
        $alive = @($Id | Where-Object { Test-ProcessAlive $_ })
        if ($alive.Count -eq 0) { return @() }
        Start-Sleep -Milliseconds 50
    } while ($clock.Elapsed.TotalSeconds -lt $TimeoutSeconds)
    return $alive
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
