#Requires -Version 7.2
<#
.SYNOPSIS
    Invoke-PoolMap against foreach, ForEach-Object -Parallel, Start-ThreadJob and Start-Job, in one run, on the same input.

.DESCRIPTION
    Seven workloads, each timed -Repeat times (medians reported), every result checked:

      a  trivial    100,000 items, $_ * 2. foreach, ForEach-Object -Parallel and Invoke-PoolMap (default pool) run all of
                    them; Start-ThreadJob and Start-Job, one job per item, run a sample of -JobSampleCount items and are
                    reported per item. Target: Invoke-PoolMap >= 50x the throughput of ForEach-Object -Parallel
                    (<= ~33 us an item end to end).
      b  cpu        200 items of ~30 ms CPU each (a SHA-256 loop calibrated on this machine), 2 workers. Also the
                    machine's ceiling in the same run: two independent serial PowerShell processes, warmed up, told to
                    go at once, each doing half the serial work; the pool's speedup is reported as a fraction of theirs.
                    Target: Invoke-PoolMap >= 95% of the ceiling.
      c  cold       a cold default pool's first result (1 | Invoke-PoolMap { $_ } right after the default pool was
                    removed) vs one '<this pwsh> -NoProfile -c 1'; a cold one-worker default pool for reference.
                    Target: <= 1.3x one pwsh start.
      d  one-liner  Get-ChildItem <2,000 small files> | Invoke-PoolMap { (Get-FileHash $_.FullName).Hash } vs the same
                    pipeline with ForEach-Object and ForEach-Object -Parallel, and the ceiling as in b (the files split
                    between warm serial processes). Target: >= 1.5x ForEach-Object.
      e  big files  the same one-liner over 200 files of 4 MB. Target: >= 1.7x ForEach-Object.
      f  memory     1..2,000,000 | Invoke-PoolMap { $_ } | Measure-Object vs the same with ForEach-Object: peak growth
                    of this process's resident memory (VmHWM after resetting it, minus VmRSS before; Linux only).
                    Target: <= 40 MB.
      g  one-shot   the one-liner of d as a script run once: a new '<this pwsh> -NoProfile' process per run, which
                    imports the module and runs Invoke-PoolMap (pool start, every worker's compilation and all), vs a
                    new process running the ForEach-Object pipeline. No target: it shows what a scheduled task sees.

    Progress is switched off for every contender ($ProgressPreference = 'SilentlyContinue'), so no bar is timed.
    Run it in a fresh process: pwsh -NoProfile -File bench/pwsh/Compare-Parallel.ps1

.PARAMETER ModulePath
    The ProcessPool manifest to import. Default: out/ProcessPool/ProcessPool.psd1 under the repository root
    (what 'dotnet build' lays out).

.PARAMETER Repeat
    Timed runs per contender and workload; the median is reported. Each workload also runs once untimed first.

.PARAMETER Workload
    Which workloads to run: Trivial, Cpu, Cold, OneLiner, BigFiles, Memory, OneShot (all by default; 'Cpu,Cold' works
    from pwsh -File too).

.PARAMETER TrivialCount
    Items of the trivial workload.

.PARAMETER JobSampleCount
    Items (one job each) that Start-Job and Start-ThreadJob run in the trivial workload.

.PARAMETER CpuCount
    Items of the CPU workload.

.PARAMETER CpuMilliseconds
    CPU time of one item of the CPU workload, calibrated in this process before the workload starts.

.PARAMETER CpuWorkers
    Workers (pool size, -ThrottleLimit) of the CPU workload.

.PARAMETER FileCount
    Files of the one-liner and one-shot workloads (1 to 4 KB of random bytes each, in a temporary directory removed at
    the end).

.PARAMETER BigFileCount
    Files of the big-file workload (4 MB of random bytes each, in a temporary directory removed at the end).

.PARAMETER PoolWarmup
    Untimed runs of Invoke-PoolMap before its timed runs in the one-liner workloads (d, e); 1 by default, as for every
    contender. Each worker compiles PowerShell's code paths for itself (the runtime's tiered compilation), over its
    first several thousand items on a PowerShell without ReadyToRun code: a larger value shows the warm pool.

.PARAMETER MemoryCount
    Items of the memory workload.

.PARAMETER MemoryRepeat
    Timed runs of each contender in the memory workload (each also runs once untimed first); fewer than -Repeat by
    default, since one run of 2,000,000 items takes a minute.

.PARAMETER MarkdownPath
    Also write the result table (Markdown) to this file.

.PARAMETER PassThru
    Also return the rows of the table as objects.

.EXAMPLE
    pwsh -NoProfile -File bench/pwsh/Compare-Parallel.ps1

    The whole comparison with the defaults: 3 timed runs of each contender on each workload.

.EXAMPLE
    pwsh -NoProfile -File bench/pwsh/Compare-Parallel.ps1 -Workload Cpu, Cold -Repeat 5

    Only the CPU-bound and cold-start workloads, 5 timed runs each.
#>
[CmdletBinding()]
param(
    [string] $ModulePath,

    [ValidateRange(1, 100)]
    [int] $Repeat = 3,

    [string[]] $Workload = @('Trivial', 'Cpu', 'Cold', 'OneLiner', 'BigFiles', 'Memory', 'OneShot'),

    [ValidateRange(1, 100000000)]
    [int] $TrivialCount = 100000,

    [ValidateRange(1, 1000)]
    [int] $JobSampleCount = 30,

    [ValidateRange(1, 1000000)]
    [int] $CpuCount = 200,

    [ValidateRange(1, 10000)]
    [int] $CpuMilliseconds = 30,

    [ValidateRange(1, 1024)]
    [int] $CpuWorkers = 2,

    [ValidateRange(1, 1000000)]
    [int] $FileCount = 2000,

    [ValidateRange(1, 100000)]
    [int] $BigFileCount = 200,

    [ValidateRange(1, 100)]
    [int] $PoolWarmup = 1,

    [ValidateRange(1, 100000000)]
    [int] $MemoryCount = 2000000,

    [ValidateRange(1, 100)]
    [int] $MemoryRepeat = 2,

    [string] $MarkdownPath,

    [switch] $PassThru
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version 3.0

# pwsh -File passes '-Workload Cpu,Cold' as one string: split it here.
$Workload = @($Workload -split ',' | ForEach-Object Trim | Where-Object { $_ })
foreach ($name in $Workload) {
    if ($name -notin 'Trivial', 'Cpu', 'Cold', 'OneLiner', 'BigFiles', 'Memory', 'OneShot') { throw "Unknown workload '$name': use Trivial, Cpu, Cold, OneLiner, BigFiles, Memory or OneShot." }
}

if (-not $ModulePath) {
    $ModulePath = Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'out/ProcessPool/ProcessPool.psd1'
}
if (-not (Test-Path -LiteralPath $ModulePath)) {
    throw "No ProcessPool module at '$ModulePath'. Build it first (dotnet build at the repository root) or pass -ModulePath."
}
$modulePathText = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$module = Import-Module -Name $modulePathText -PassThru -ErrorAction Stop
# One PowerShell start, as the pool starts a worker: this pwsh, or under the .NET tool install (where this process is
# the dotnet host) that dotnet running $PSHOME/pwsh.dll; never the process image alone.
$pwshCommand = if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -in 'pwsh', 'powershell') {
    @([Environment]::ProcessPath)
} else {
    @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll'))
}
$workers = [Environment]::ProcessorCount

# ---------------------------------------------------------------------------------------------------------- helpers

# A field of /proc/self/status in KB (VmRSS: resident now; VmHWM: the peak since the last reset).
function Get-StatusKB([string] $Field) {
    $line = [IO.File]::ReadAllLines('/proc/self/status') | Where-Object { $_.StartsWith("${Field}:") }
    [long]($line -replace '\D', '')
}

function Get-Median([double[]] $Values) {
    $sorted = [double[]]($Values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { return $sorted[($n - 1) / 2] }
    return ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

# Prints a contender's median and runs; returns them.
function Write-Timing([string] $Name, [double[]] $Seconds) {
    $median = Get-Median $Seconds
    Write-Host ('  {0,-34} median {1,10:N1} ms   runs: {2}' -f $Name, ($median * 1000), (($Seconds | ForEach-Object { '{0:N0}' -f ($_ * 1000) }) -join ', '))
    [pscustomobject]@{ Name = $Name; Median = $median; Seconds = $Seconds }
}

# Runs $Warmup (default: $Action) once untimed (JIT, caches, warm workers), then $Action -Repeat times timed.
# $Action returns its results; $Check throws when they are wrong. Returns the median in seconds and every timing.
function Measure-Contender {
    param([string] $Name, [scriptblock] $Action, [scriptblock] $Check, [scriptblock] $BeforeEach, [scriptblock] $Warmup)
    if ($BeforeEach) { & $BeforeEach }
    $null = if ($Warmup) { & $Warmup } else { & $Action }
    $seconds = foreach ($run in 1..$Repeat) {
        if ($BeforeEach) { & $BeforeEach }
        [GC]::Collect()
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $result = & $Action
        $watch.Stop()
        if ($Check) { & $Check $result }
        $watch.Elapsed.TotalSeconds
    }
    Write-Timing $Name $seconds
}

# The machine's ceiling for a workload: one PowerShell process per share of the serial work, each warmed up on its
# share ($Warmups runs of $Work, then a pause), then all told to go at the same moment, 1 + -Repeat times (the first
# untimed, as for the contenders); a run lasts as long as its slowest process. The processes stay up between runs, as
# warm as the serial contender's session: the ceiling is what the cores give independent processes, not start-up.
function Measure-Ceiling([string] $Name, [scriptblock] $Work, [string[]] $Shares, [int] $Warmups) {
    $child = {
        param([scriptblock] $Work, [string] $Share, [int] $Warmups)
        for ($i = 0; $i -lt $Warmups; $i++) { $null = & $Work $Share }
        # The runtime compiles hot methods in the background only once no new method has run for 100 ms: an idle
        # moment lets it finish, as the serial contender's long session has.
        Start-Sleep -Seconds 2
        [Console]::Out.WriteLine('ready')
        while ($null -ne [Console]::In.ReadLine()) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = & $Work $Share
            [Console]::Out.WriteLine($watch.Elapsed.TotalSeconds.ToString([Globalization.CultureInfo]::InvariantCulture))
        }
    }
    $processes = foreach ($share in $Shares) {
        $command = "& { $child } -Work { $Work } -Share '$($share.Replace("'", "''"))' -Warmups $Warmups"
        $info = [Diagnostics.ProcessStartInfo]::new($pwshCommand[0])
        foreach ($argument in @($pwshCommand | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($command)))) { $info.ArgumentList.Add($argument) }
        $info.RedirectStandardInput = $true
        # The processes end together: none rewrites PowerShell's shared start-up profile (PowerShell/PowerShell#26528).
        $info.Environment['DOTNET_MultiCoreJitNoProfileGather'] = '1'
        $info.RedirectStandardOutput = $true
        $info.UseShellExecute = $false
        [Diagnostics.Process]::Start($info)
    }
    try {
        foreach ($process in $processes) {
            if ($process.StandardOutput.ReadLine() -ne 'ready') { throw 'A ceiling process ended before it was ready.' }
        }
        $seconds = foreach ($run in 0..$Repeat) {
            foreach ($process in $processes) { $process.StandardInput.WriteLine('go'); $process.StandardInput.Flush() }
            $slowest = 0.0
            foreach ($process in $processes) {
                $line = $process.StandardOutput.ReadLine()
                if ($null -eq $line) { throw 'A ceiling process ended during a run.' }
                $slowest = [math]::Max($slowest, [double]::Parse($line, [Globalization.CultureInfo]::InvariantCulture))
            }
            if ($run -gt 0) { $slowest }
        }
    }
    finally {
        foreach ($process in $processes) {
            $process.StandardInput.Close() # end of input: the process's loop ends
            if (-not $process.WaitForExit(10000)) { $process.Kill($true) }
            $process.Dispose()
        }
    }
    Write-Timing $Name $seconds
}

function Assert-Equal($Expected, $Actual, [string] $What) {
    $e = @($Expected); $a = @($Actual)
    if ($e.Count -ne $a.Count) { throw "${What}: expected $($e.Count) results, got $($a.Count)." }
    for ($i = 0; $i -lt $e.Count; $i++) {
        if ($e[$i] -ne $a[$i]) { throw "${What}: result $i is '$($a[$i])', expected '$($e[$i])'." }
    }
}

function Assert-SameSet($Expected, $Actual, [string] $What) {
    Assert-Equal ($Expected | Sort-Object) ($Actual | Sort-Object) $What
}

$rows = [Collections.Generic.List[object]]::new()
function Add-Row([string] $Workload, [string] $Contender, [long] $Items, [double] $Seconds, [string] $Ratio, [string] $Target, [object] $Met) {
    $rows.Add([pscustomobject]@{
        Workload  = $Workload
        Contender = $Contender
        Items     = $Items
        MedianMs  = [math]::Round($Seconds * 1000, 1)
        UsPerItem = if ($Items -gt 1) { [math]::Round($Seconds * 1e6 / $Items, 1) } else { $null }
        Ratio     = $Ratio
        Target    = $Target
        Met       = if ($null -eq $Met) { '' } elseif ($Met) { 'yes' } else { 'NO' }
    })
}

# Below 0.1x a ratio reads better as 'N times slower'.
function Format-Ratio([double] $Value) {
    if ($Value -gt 0 -and $Value -lt 0.1) { return '1/{0:N0}x' -f (1 / $Value) }
    '{0:N2}x' -f $Value
}

# The README one-liner over the files of $Directory: ForEach-Object, ForEach-Object -Parallel and Invoke-PoolMap
# (default pool), each checked against the serial hashes; the pool's row carries the target speedup.
# With -CeilingWarmups, also the machine's ceiling for it: the files split among $workers processes (Measure-Ceiling).
function Measure-FileHashOneLiner([string] $Workload, [string] $Directory, [int] $Count, [double] $Target, [int] $CeilingWarmups) {
    $expected = Get-ChildItem -LiteralPath $Directory -File | ForEach-Object { (Get-FileHash $_.FullName).Hash }
    $serial = Measure-Contender 'ForEach-Object' {
        Get-ChildItem -LiteralPath $Directory -File | ForEach-Object { (Get-FileHash $_.FullName).Hash }
    } { param($r) Assert-Equal $expected $r 'ForEach-Object' }
    $parallel = Measure-Contender 'ForEach-Object -Parallel' {
        Get-ChildItem -LiteralPath $Directory -File | ForEach-Object -Parallel { (Get-FileHash $_.FullName).Hash } -ThrottleLimit $workers
    } { param($r) Assert-SameSet $expected $r 'ForEach-Object -Parallel' }
    $poolRun = { Get-ChildItem -LiteralPath $Directory -File | Invoke-PoolMap { (Get-FileHash $_.FullName).Hash } }
    $pool = Measure-Contender 'Invoke-PoolMap' $poolRun { param($r) Assert-Equal $expected $r 'Invoke-PoolMap' } -Warmup {
        for ($i = 0; $i -lt $PoolWarmup; $i++) { $null = & $poolRun }
    }

    $ceilingSpeedup = $null
    if ($CeilingWarmups) {
        $sharesDir = Join-Path ([IO.Path]::GetTempPath()) ("pp-bench-shares-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
        $tempDirs.Add($sharesDir)
        $shares = foreach ($w in 1..$workers) { (New-Item -ItemType Directory -Path (Join-Path $sharesDir $w)).FullName }
        $files = @(Get-ChildItem -LiteralPath $Directory -File)
        for ($i = 0; $i -lt $files.Count; $i++) { Copy-Item -LiteralPath $files[$i].FullName -Destination $shares[$i % $workers] }
        $ceiling = Measure-Ceiling "ceiling: $workers serial processes" {
            param($Share)
            Get-ChildItem -LiteralPath $Share -File | ForEach-Object { (Get-FileHash $_.FullName).Hash }
        } $shares $CeilingWarmups
        $ceilingSpeedup = $serial.Median / $ceiling.Median
    }

    Add-Row $Workload 'ForEach-Object' $Count $serial.Median '1.00x (baseline)' '' $null
    if ($ceilingSpeedup) { Add-Row $Workload "ceiling: $workers serial processes at once" $Count $ceiling.Median (Format-Ratio $ceilingSpeedup) '' $null }
    Add-Row $Workload "ForEach-Object -Parallel ($workers)" $Count $parallel.Median (Format-Ratio ($serial.Median / $parallel.Median)) '' $null
    $speedup = $serial.Median / $pool.Median
    $label = if ($PoolWarmup -eq 1) { 'Invoke-PoolMap (default pool)' } else { "Invoke-PoolMap (default pool, $PoolWarmup untimed runs)" }
    $ratio = if ($ceilingSpeedup) { '{0} ({1:P0} of the ceiling)' -f (Format-Ratio $speedup), ($speedup / $ceilingSpeedup) } else { Format-Ratio $speedup }
    Add-Row $Workload $label $Count $pool.Median $ratio ">= $($Target)x ForEach-Object" ($speedup -ge $Target)
}

# -FileCount files of 1-4 KB of random bytes (the same ones on every call) in a new temporary directory; its path.
function New-SmallFiles {
    $dir = Join-Path ([IO.Path]::GetTempPath()) ("pp-bench-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    $tempDirs.Add($dir)
    $null = New-Item -ItemType Directory -Path $dir
    $random = [Random]::new(42)
    for ($i = 0; $i -lt $FileCount; $i++) {
        $bytes = [byte[]]::new($random.Next(1024, 4097))
        $random.NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $dir ('file{0:D5}.bin' -f $i)), $bytes)
    }
    $dir
}

# Removes the default pool so the next Invoke-PoolMap without -Pool starts a new one, cold.
function Remove-DefaultPool {
    Get-ProcessPool | Where-Object IsDefault | Remove-ProcessPool -Force
}

# Other work on the machine skews every number: show the load average where the OS has one.
function Get-LoadText {
    if (Test-Path -LiteralPath /proc/loadavg) { return 'load average ' + ((Get-Content -LiteralPath /proc/loadavg -Raw).Split(' ')[0..2] -join ' ') }
    return $null
}

$tempDir = $null
$tempDirs = [Collections.Generic.List[string]]::new()
$benchPools = [Collections.Generic.List[object]]::new()

Write-Host ("ProcessPool {0} from {1}" -f $module.Version, (Split-Path $module.Path -Parent))
Write-Host ("PowerShell {0} on {1}; {2} processors; {3} timed runs per contender (median); {4}" -f $PSVersionTable.PSVersion, [Runtime.InteropServices.RuntimeInformation]::OSDescription, $workers, $Repeat, (Get-LoadText))

try {
    # ------------------------------------------------------------------------------------------------- a: trivial
    if ('Trivial' -in $Workload) {
        Write-Host "`na) $('{0:N0}' -f $TrivialCount) trivial items (`$_ * 2), $workers workers; jobs on a sample of $JobSampleCount"
        $items = [int[]](1..$TrivialCount)
        $expected = foreach ($x in $items) { $x * 2 }
        $sample = [int[]]$items[0..($JobSampleCount - 1)]
        $expectedSample = foreach ($x in $sample) { $x * 2 }

        $serial = Measure-Contender 'foreach' { foreach ($x in $items) { $x * 2 } } { param($r) Assert-Equal $expected $r 'foreach' }
        # Warm-ups of the slow contenders run on a few items: a full untimed pass would cost minutes and warm nothing more.
        $parallel = Measure-Contender 'ForEach-Object -Parallel' -Warmup {
            $sample | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit $workers
        } -Action {
            $items | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit $workers
        } -Check { param($r) Assert-SameSet $expected $r 'ForEach-Object -Parallel' }
        $threadJob = Measure-Contender "Start-ThreadJob (sample)" -Warmup {
            Start-ThreadJob { 1 } | Receive-Job -Wait -AutoRemoveJob
        } -Action {
            $jobs = foreach ($x in $sample) { Start-ThreadJob { $using:x * 2 } -ThrottleLimit $workers }
            $jobs | Receive-Job -Wait -AutoRemoveJob
        } -Check { param($r) Assert-SameSet $expectedSample $r 'Start-ThreadJob' }
        $job = Measure-Contender "Start-Job (sample)" -Warmup {
            Start-Job { 1 } | Receive-Job -Wait -AutoRemoveJob
        } -Action {
            $jobs = foreach ($x in $sample) { Start-Job { $using:x * 2 } }
            $jobs | Receive-Job -Wait -AutoRemoveJob
        } -Check { param($r) Assert-SameSet $expectedSample $r 'Start-Job' }
        $pool = Measure-Contender 'Invoke-PoolMap (default pool)' { $items | Invoke-PoolMap { $_ * 2 } } { param($r) Assert-Equal $expected $r 'Invoke-PoolMap' }

        $poolUs = $pool.Median * 1e6 / $TrivialCount
        Add-Row 'a trivial' 'foreach' $TrivialCount $serial.Median '' '' $null
        Add-Row 'a trivial' 'ForEach-Object -Parallel' $TrivialCount $parallel.Median '1.00x (baseline)' '' $null
        Add-Row 'a trivial' 'Start-ThreadJob (per item)' $JobSampleCount $threadJob.Median (Format-Ratio (($parallel.Median / $TrivialCount) / ($threadJob.Median / $JobSampleCount))) '' $null
        Add-Row 'a trivial' 'Start-Job (per item)' $JobSampleCount $job.Median (Format-Ratio (($parallel.Median / $TrivialCount) / ($job.Median / $JobSampleCount))) '' $null
        $ratio = $parallel.Median / $pool.Median
        Add-Row 'a trivial' 'Invoke-PoolMap (default pool)' $TrivialCount $pool.Median (Format-Ratio $ratio) '>= 50x, <= ~33 us/item' (($ratio -ge 50) -and ($poolUs -le 33.4))
        Remove-Variable items, expected
    }

    # ----------------------------------------------------------------------------------------------------- b: cpu
    if ('Cpu' -in $Workload) {
        # One item: $n SHA-256 hashes of a 64 KB buffer, then the item itself; $n calibrated for -CpuMilliseconds here.
        $work = {
            param($n)
            $sha = [Security.Cryptography.SHA256]::Create()
            $buffer = [byte[]]::new(65536)
            for ($i = 0; $i -lt $n; $i++) { $null = $sha.ComputeHash($buffer) }
            $sha.Dispose()
        }
        # Calibration: the best of 3 timings (noise only adds time), rescaled until it is within 5% of the target.
        $rounds = 100
        foreach ($step in 1..8) {
            $best = [double]::MaxValue
            foreach ($try in 1..3) {
                $watch = [Diagnostics.Stopwatch]::StartNew(); & $work $rounds; $watch.Stop()
                $best = [math]::Min($best, $watch.Elapsed.TotalMilliseconds)
            }
            if ([math]::Abs($best - $CpuMilliseconds) -le 0.05 * $CpuMilliseconds) { break }
            $rounds = [math]::Max(1, [int]($rounds * $CpuMilliseconds / $best))
        }
        Write-Host ("`nb) {0} items of ~{1} ms CPU ({2} SHA-256 hashes of 64 KB, {3:N1} ms measured), {4} workers" -f $CpuCount, $CpuMilliseconds, $rounds, $best, $CpuWorkers)

        $items = [int[]](1..$CpuCount)
        $cpuPool = New-ProcessPool -Size $CpuWorkers -Name 'bench-cpu'
        $benchPools.Add($cpuPool)

        $serial = Measure-Contender 'foreach' {
            foreach ($x in $items) { & $work $rounds; $x }
        } { param($r) Assert-Equal $items $r 'foreach' }
        $parallel = Measure-Contender 'ForEach-Object -Parallel' {
            $items | ForEach-Object -Parallel {
                $n = $using:rounds
                $sha = [Security.Cryptography.SHA256]::Create()
                $buffer = [byte[]]::new(65536)
                for ($i = 0; $i -lt $n; $i++) { $null = $sha.ComputeHash($buffer) }
                $sha.Dispose()
                $_
            } -ThrottleLimit $CpuWorkers
        } { param($r) Assert-SameSet $items $r 'ForEach-Object -Parallel' }
        $pool = Measure-Contender 'Invoke-PoolMap' {
            $items | Invoke-PoolMap -Pool $cpuPool -ArgumentList $rounds {
                param($n)
                $sha = [Security.Cryptography.SHA256]::Create()
                $buffer = [byte[]]::new(65536)
                for ($i = 0; $i -lt $n; $i++) { $null = $sha.ComputeHash($buffer) }
                $sha.Dispose()
                $_
            }
        } { param($r) Assert-Equal $items $r 'Invoke-PoolMap' }

        # The same loop as the serial contender: the same block, called once per item (PowerShell compiles a block after
        # it has run a number of times; one long call would stay interpreted).
        $share = [int][math]::Ceiling($CpuCount / $CpuWorkers)
        $ceilingWork = [scriptblock]::Create("param(`$Count) `$work = { $work }; foreach (`$x in 1..[int]`$Count) { & `$work $rounds; `$null = `$x }")
        $ceiling = Measure-Ceiling "ceiling: $CpuWorkers serial processes" $ceilingWork (@("$share") * $CpuWorkers) 1

        Add-Row 'b cpu' 'foreach' $CpuCount $serial.Median '1.00x (baseline)' '' $null
        $ceilingSpeedup = $serial.Median / $ceiling.Median
        Add-Row 'b cpu' "ceiling: $CpuWorkers serial processes at once" $CpuCount $ceiling.Median (Format-Ratio $ceilingSpeedup) '' $null
        $parallelSpeedup = $serial.Median / $parallel.Median
        Add-Row 'b cpu' "ForEach-Object -Parallel ($CpuWorkers)" $CpuCount $parallel.Median (Format-Ratio $parallelSpeedup) '' $null
        $speedup = $serial.Median / $pool.Median
        $ofCeiling = $speedup / $ceilingSpeedup
        Add-Row 'b cpu' "Invoke-PoolMap ($CpuWorkers workers)" $CpuCount $pool.Median ('{0} ({1:P0} of the ceiling)' -f (Format-Ratio $speedup), $ofCeiling) '>= 95% of the ceiling' ($ofCeiling -ge 0.95)
    }

    # ---------------------------------------------------------------------------------------------------- c: cold
    if ('Cold' -in $Workload) {
        Write-Host "`nc) cold default pool ($workers workers) -> first result, vs one '$(($pwshCommand | Split-Path -Leaf) -join ' ') -NoProfile -c 1'"
        $start = Measure-Contender 'pwsh -NoProfile -c 1' {
            $out = & $pwshCommand[0] @($pwshCommand | Select-Object -Skip 1) -NoProfile -c 1
            if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE" }
            $out
        } { param($r) Assert-Equal @('1') @("$r") 'pwsh' }
        $cold = Measure-Contender 'cold default pool, first result' -BeforeEach { Remove-DefaultPool } -Action {
            1 | Invoke-PoolMap { $_ } | Select-Object -First 1
        } -Check { param($r) Assert-Equal @(1) $r 'cold Invoke-PoolMap' }
        $coldOne = Measure-Contender 'cold 1-worker pool, first result' -BeforeEach { Get-ProcessPool | Where-Object Name -EQ 'Default-1' | Remove-ProcessPool -Force } -Action {
            1 | Invoke-PoolMap -ThrottleLimit 1 { $_ } | Select-Object -First 1
        } -Check { param($r) Assert-Equal @(1) $r 'cold Invoke-PoolMap -ThrottleLimit 1' }
        $warm = Measure-Contender 'warm default pool, first result' -Action {
            1 | Invoke-PoolMap { $_ } | Select-Object -First 1
        } -Check { param($r) Assert-Equal @(1) $r 'warm Invoke-PoolMap' }

        Add-Row 'c cold' 'pwsh -NoProfile -c 1' 1 $start.Median '1.00x (baseline)' '' $null
        $ratio = $cold.Median / $start.Median
        Add-Row 'c cold' 'Invoke-PoolMap, cold default pool' 1 $cold.Median (Format-Ratio $ratio) '<= 1.3x one pwsh start' ($ratio -le 1.3)
        Add-Row 'c cold' 'Invoke-PoolMap -ThrottleLimit 1, cold' 1 $coldOne.Median (Format-Ratio ($coldOne.Median / $start.Median)) '' $null
        Add-Row 'c cold' 'Invoke-PoolMap, warm default pool' 1 $warm.Median (Format-Ratio ($warm.Median / $start.Median)) '' $null
    }

    # ----------------------------------------------------------------------------------------------- d: one-liner
    if ('OneLiner' -in $Workload) {
        $tempDir = New-SmallFiles
        Write-Host "`nd) Get-ChildItem <$FileCount files of 1-4 KB> | ... { (Get-FileHash `$_.FullName).Hash }"
        # The ceiling's processes warm up over about as many files as the serial contender's session has hashed by its median run.
        Measure-FileHashOneLiner 'd one-liner' $tempDir $FileCount 1.5 -CeilingWarmups 8
    }

    # --------------------------------------------------------------------------------------------- e: big files
    if ('BigFiles' -in $Workload) {
        $bigDir = Join-Path ([IO.Path]::GetTempPath()) ("pp-bench-big-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
        $tempDirs.Add($bigDir)
        $null = New-Item -ItemType Directory -Path $bigDir
        $random = [Random]::new(43)
        $bytes = [byte[]]::new(4MB)
        for ($i = 0; $i -lt $BigFileCount; $i++) {
            $random.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $bigDir ('big{0:D4}.bin' -f $i)), $bytes)
        }
        Write-Host "`ne) Get-ChildItem <$BigFileCount files of 4 MB> | ... { (Get-FileHash `$_.FullName).Hash }"
        Measure-FileHashOneLiner 'e big files' $bigDir $BigFileCount 1.7
    }

    # ------------------------------------------------------------------------------------------------ f: memory
    if ('Memory' -in $Workload) {
        Write-Host "`nf) 1..$('{0:N0}' -f $MemoryCount) | ... { `$_ } | Measure-Object: peak growth of this process's resident memory"
        if (-not (Test-Path -LiteralPath /proc/self/clear_refs)) {
            Write-Host '  skipped: needs /proc/self/status and /proc/self/clear_refs (Linux)'
        }
        else {
            $memoryCount = $MemoryCount
            $memory = [ordered]@{
                'ForEach-Object' = { (1..$memoryCount | ForEach-Object { $_ } | Measure-Object).Count }
                'Invoke-PoolMap' = { (1..$memoryCount | Invoke-PoolMap { $_ } | Measure-Object).Count }
            }
            $growth = @{}
            $times = @{}
            foreach ($name in $memory.Keys) {
                $null = & $memory[$name] # untimed first run: JIT, caches and the heap's working size belong to the first run of a session, not to the workload
                foreach ($run in 1..$MemoryRepeat) {
                    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
                    [IO.File]::WriteAllText('/proc/self/clear_refs', '5') # resets the peak (VmHWM) to the current RSS
                    $before = Get-StatusKB 'VmRSS'
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    $count = & $memory[$name]
                    $watch.Stop()
                    if ($count -ne $MemoryCount) { throw "${name}: counted $count items, expected $MemoryCount." }
                    $growth[$name] += , (((Get-StatusKB 'VmHWM') - $before) / 1KB)
                    $times[$name] += , $watch.Elapsed.TotalSeconds
                }
                Write-Host ('  {0,-34} median {1,10:N1} MB   runs: {2} (time: {3} s)' -f $name, (Get-Median $growth[$name]), (($growth[$name] | ForEach-Object { '{0:N1}' -f $_ }) -join ', '), (($times[$name] | ForEach-Object { '{0:N1}' -f $_ }) -join ', '))
            }
            foreach ($name in $memory.Keys) {
                $mb = Get-Median $growth[$name]
                $isPool = $name -eq 'Invoke-PoolMap'
                Add-Row 'f memory' $name $MemoryCount (Get-Median $times[$name]) ('+{0:N1} MB peak RSS' -f $mb) $(if ($isPool) { '<= 40 MB' } else { '' }) $(if ($isPool) { $mb -le 40 } else { $null })
            }
        }
    }

    # ------------------------------------------------------------------------------------------------- g: one-shot
    if ('OneShot' -in $Workload) {
        $oneShotDir = if ($tempDir) { $tempDir } else { New-SmallFiles }
        Write-Host "`ng) the one-liner of d as a whole script: a new '$(($pwshCommand | Split-Path -Leaf) -join ' ') -NoProfile' per run"
        $listing = "Get-ChildItem -LiteralPath '$($oneShotDir.Replace("'", "''"))' -File"
        $scripts = [ordered]@{
            'ForEach-Object' = "($listing | ForEach-Object { (Get-FileHash `$_.FullName).Hash }).Count"
            'Invoke-PoolMap' = "Import-Module -Name '$($modulePathText.Replace("'", "''"))'; ($listing | Invoke-PoolMap { (Get-FileHash `$_.FullName).Hash }).Count"
        }
        $oneShot = @{}
        foreach ($name in $scripts.Keys) {
            $script = $scripts[$name]
            $oneShot[$name] = Measure-Contender $name {
                $out = & $pwshCommand[0] @($pwshCommand | Select-Object -Skip 1) -NoProfile -NonInteractive -c $script
                if ($LASTEXITCODE -ne 0) { throw "pwsh exited with $LASTEXITCODE" }
                $out
            } { param($r) Assert-Equal @("$FileCount") @("$r") $name }
        }
        Add-Row 'g one-shot' 'ForEach-Object, new process' $FileCount $oneShot['ForEach-Object'].Median '1.00x (baseline)' '' $null
        Add-Row 'g one-shot' 'Invoke-PoolMap, new process' $FileCount $oneShot['Invoke-PoolMap'].Median (Format-Ratio ($oneShot['ForEach-Object'].Median / $oneShot['Invoke-PoolMap'].Median)) '' $null
    }
}
finally {
    foreach ($p in $benchPools) { Remove-ProcessPool -Pool $p -Force -ErrorAction SilentlyContinue }
    Remove-DefaultPool
    foreach ($dir in $tempDirs) {
        if ($dir -and (Test-Path -LiteralPath $dir)) { Remove-Item -LiteralPath $dir -Recurse -Force }
    }
}

# ---------------------------------------------------------------------------------------------------------- report
$lines = [Collections.Generic.List[string]]::new()
$lines.Add('| workload | contender | items | median ms | µs/item | ratio | target | met |')
$lines.Add('|---|---|--:|--:|--:|--:|---|---|')
foreach ($row in $rows) {
    $lines.Add(('| {0} | {1} | {2:N0} | {3:N1} | {4} | {5} | {6} | {7} |' -f $row.Workload, $row.Contender, $row.Items, $row.MedianMs,
        $(if ($null -ne $row.UsPerItem) { '{0:N1}' -f $row.UsPerItem } else { '' }), $row.Ratio, $row.Target, $row.Met))
}
Write-Host ''
if (Get-LoadText) { Write-Host "At the end: $(Get-LoadText)" }
Write-Host 'Ratios: a) throughput vs ForEach-Object -Parallel (jobs per item); b, d, e, g) speedup vs the serial pipeline; c) time vs one pwsh start; f) peak growth of resident memory.'
$lines | ForEach-Object { Write-Host $_ }
if ($MarkdownPath) { Set-Content -LiteralPath $MarkdownPath -Value $lines -Encoding utf8 }
if ($PassThru) { $rows }
