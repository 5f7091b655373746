BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:pool = New-TestPool -Size 2
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -EQ 'PoolMapJob' | Remove-Job -Force
    Remove-TestPool $script:pool
}

Describe 'Receive-PoolResult' {
    Context 'Job' {
        It 'returns what is ready now without waiting' {
            $job = 1..4 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AsJob { if ($_ -eq 4) { Start-Sleep 120 }; $_ }
            try {
                Wait-Until { $job.MapProgress.Completed -ge 3 } | Should -BeTrue
                $clock = [Diagnostics.Stopwatch]::StartNew()
                Receive-PoolResult -Job $job | Should -Be 1, 2, 3
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 60 # item 4 takes 120 s
                $job.State | Should -Be 'Running'
            }
            finally { Stop-Job $job }
        }

        It 'takes jobs from the pipeline, Get-Job''s included' {
            $job = 1..3 | Invoke-PoolMap -Pool $pool -AsJob { $_ }
            $null = Wait-Job $job -Timeout 30
            Get-Job -Id $job.Id | Receive-PoolResult | Should -Be 1, 2, 3
        }

        It 'writes an item''s error with the item as target, honouring -ErrorAction' {
            $job = 1..3 | Invoke-PoolMap -Pool $pool -AsJob { if ($_ -eq 2) { throw 'two' }; $_ }
            $out = Receive-PoolResult $job -Wait -ErrorVariable failures -ErrorAction SilentlyContinue
            $out | Should -Be 1, 3
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'PoolItemFailed*'
            $failures[0].TargetObject | Should -Be 2
        }
    }

    Context 'Wait' {
        It 'waits for the job to end and returns every result' {
            $job = 1..6 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AsJob { Start-Sleep -Milliseconds 200; $_ }
            Receive-PoolResult $job -Wait | Should -Be (1..6)
            $job.State | Should -Be 'Completed'
        }
    }

    Context 'Timeout' {
        It 'stops waiting after the timeout and returns what arrived' {
            $job = 1..3 | Invoke-PoolMap -Pool $pool -ChunkSize 1 -AsJob { if ($_ -eq 3) { Start-Sleep 120 }; $_ }
            try {
                Wait-Until { $job.MapProgress.Completed -ge 2 } | Should -BeTrue
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $out = Receive-PoolResult $job -Wait -Timeout 2
                $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.9
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 60 # item 3 takes 120 s
                $out | Should -Be 1, 2
                $job.State | Should -Be 'Running'
            }
            finally { Stop-Job $job }
        }
    }

    Context 'Keep' {
        It 'leaves the results in the job with -Keep' {
            $job = 1..3 | Invoke-PoolMap -Pool $pool -AsJob { $_ }
            $null = Wait-Job $job -Timeout 30
            Receive-PoolResult $job -Keep | Should -Be 1, 2, 3
            Receive-PoolResult $job -Keep | Should -Be 1, 2, 3
            Receive-PoolResult $job | Should -Be 1, 2, 3
            Receive-PoolResult $job | Should -BeNullOrEmpty
            $job.HasMoreData | Should -BeFalse
        }
    }
}
