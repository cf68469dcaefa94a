from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database is not reachable."}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers a ping."""
    try:
        await request.app.state.database.command("ping")
    except PyMongoError:
        body = {"error": {"code": "database_unavailable", "message": "the database is not "
                          "reachable", "details": []}}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})
