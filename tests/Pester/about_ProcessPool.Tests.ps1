# The examples of about_ProcessPool's "Coming from Python's multiprocessing.Pool" section run here, in order, in one
# scope, exactly as written in the markdown (the source of the compiled help), and each must give its documented
# result. An example without an expected result here, or an expectation without its example, fails: the two move together.

BeforeDiscovery {
    $script:aboutPath = Join-Path $PSScriptRoot '../../docs/help/en-US/about_ProcessPool.md'

    # The fenced code blocks of one '## Heading' section; each block's first line is '# <the Python calls it shows>'.
    function Get-SectionExample([string] $Path, [string] $Heading) {
        $inSection = $false; $inCode = $false; $code = $null
        foreach ($line in Get-Content -LiteralPath $Path) {
            if (-not $inCode -and $line -match '^#{1,2} ') { $inSection = $line -eq "## $Heading"; continue }
            if (-not $inSection) { continue }
            if ($line -match '^```') {
                if ($inCode) { @{ Name = $code[0] -replace '^#\s*'; Code = ($code -join "`n") } }
                $inCode = -not $inCode; $code = [System.Collections.Generic.List[string]]::new()
                continue
            }
            if ($inCode) { $code.Add($line) }
        }
    }

    $script:examples = @(Get-SectionExample $aboutPath "Coming from Python's multiprocessing.Pool")
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule

    # What each example writes, by its first line.
    $script:expected = @{
        'Pool(2)'                                                   = @()
        'map, imap'                                                 = 1, 4, 9, 16
        'imap_unordered'                                            = 1, 4, 9, 16
        'starmap'                                                   = 3, 7, 1024
        'apply'                                                     = @(42)
        'map_async, AsyncResult.wait, ready, successful, get'      = $true, $true, 10, 20, 30, 40
        'callback, error_callback'                                  = @()
        'initializer, initargs, maxtasksperchild, chunksize'        = 'hello 1', 'hello 2', 'hello 3'
        'with Pool(2) as p'                                         = 2, 3, 4
        'close, join, terminate'                                    = @()
    }

    # Runs every example in this one scope, in order, as a user pasting them would; any error stops the example.
    $script:outputs = @{}
    $script:failures = @{}
    $global:mapResult = $null; $global:mapError = $null
    $started = [System.Collections.Generic.List[object]]::new()
    foreach ($example in $examples) {
        try {
            $ErrorActionPreference = 'Stop'
            $script:outputs[$example.Name] = @(. ([scriptblock]::Create($example.Code)))
        }
        catch {
            $script:failures[$example.Name] = $_
        }
        finally {
            $ErrorActionPreference = 'Continue'
        }
        foreach ($name in 'pool', 'setup', 'scoped') {
            $value = Get-Variable -Name $name -ValueOnly -ErrorAction SilentlyContinue
            if ($value -is [ProcessPool.Commands.ProcessPoolHandle] -and -not $started.Contains($value)) { $started.Add($value) }
        }
    }
    $script:examplePools = $started
}

AfterAll {
    Get-EventSubscriber -SourceIdentifier PoolMapDone -ErrorAction SilentlyContinue | Unregister-Event
    Get-Job | Where-Object PSJobTypeName -eq 'PoolMapJob' | Remove-Job -Force
    foreach ($pool in $script:examplePools) { Remove-TestPool $pool }
    Remove-Variable -Name mapResult, mapError -Scope Global -ErrorAction SilentlyContinue
}

Describe 'about_ProcessPool: Python''s Pool in examples' {
    It 'has an example for each expectation and an expectation for each example' {
        @($examples.Name) | Sort-Object | Should -Be (@($expected.Keys) | Sort-Object)
    }

    It 'runs "<Name>" and gets its documented result' -ForEach $examples {
        $failures[$Name] | Should -BeNullOrEmpty
        ($outputs[$Name] -join ', ') | Should -Be ($expected[$Name] -join ', ')
    }

    It 'calls the StateChanged callback with the results when the async map completes' {
        Wait-Until { $null -ne $global:mapResult } | Should -BeTrue
        $global:mapResult | Should -Be 10, 20, 30, 40
        $global:mapError | Should -BeNullOrEmpty
    }

    It 'leaves no pool of the examples registered and no worker running' {
        $examplePools.Count | Should -Be 3
        foreach ($pool in $examplePools) {
            Get-ProcessPool -Name $pool.Name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            Wait-ProcessGone $pool.GetAllStartedProcessIds() | Should -BeNullOrEmpty
        }
    }
}
